use tokenscope::tokens::{Encoding, Tokenizer};
#[test]
fn counts() {
    let t = Tokenizer::Exact(Encoding::O200kBase);
    for f in std::env::var("FILES").unwrap().split_whitespace() {
        let set = tokenscope::input::itemset::load(std::path::Path::new(f)).unwrap();
        println!("{f}: warnings {:?}", set.warnings);
        let mut per: std::collections::BTreeMap<String, usize> = Default::default();
        for i in &set.items {
            let n = t.count(i.text());
            *per.entry(i.section.clone()).or_default() += n;
            println!("  {:<12} {:<22} {:>6}", i.section, i.id, n);
        }
        println!("  {per:?} total {}", per.values().sum::<usize>());
    }
}
