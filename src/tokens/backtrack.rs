//! Byte-pair encoding of long pieces in linear time, by backtracking over
//! the vocabulary (the method of the `bpe` crate, written for tokenscope).
//!
//! A byte-pair merge (lowest priority first, leftmost on ties) has exactly
//! one result, and a sequence of tokens is that result if and only if every
//! two neighbouring tokens are: no merge across their boundary would fire
//! before both tokens are complete. That pair check replays the two
//! tokens' merge histories backwards (each token is formed by one last
//! merge of two smaller tokens, its *split*) and costs a handful of lookups.
//! The encoder walks the input left to right, takes the longest token that
//! matches (a trie walk), and when the pair check fails tries the next
//! shorter token there, or steps back a token; a bit per input position
//! remembers the positions from which no encoding can continue, so no
//! position is tried twice. Time and memory are linear in the input.
//!
//! The method needs every token that can appear in a result to be formed
//! by a merge of two tokens of lower priority (true of vocabularies that
//! byte-pair training produced). [`Backtrack::build`] checks that against
//! the reference merge for every token it cannot explain, and refuses the
//! vocabulary otherwise; callers then keep their reference merge.

use rustc_hash::FxHashMap;

const NONE: u32 = u32::MAX;

/// One merge rule: `(left, right, priority, merged)`; lower priorities
/// merge first.
pub(crate) type Rule = (u32, u32, u32, u32);

/// The linear-time encoder of one vocabulary.
pub(crate) struct Backtrack {
    /// Input symbol -> trie node of its one-symbol token.
    root: Vec<u32>,
    /// Trie nodes: the edges of node `k` are
    /// `edges[nodes[k].first..nodes[k + 1].first]`, sorted by symbol.
    nodes: Vec<Node>,
    /// `(symbol << 32) | child node`.
    edges: Vec<u64>,
    /// Per token, what the pair check and the walk read about it, in one
    /// place (one cache line per token, where separate arrays took four).
    info: Vec<Info>,
    /// `(left << 32 | right)` -> merged token, for the splits.
    pairs: FxHashMap<u64, u32>,
    /// A blocked Bloom filter of `pairs`: both bits of a pair in one word
    /// (about 16 bits per pair). Most pairs checked are not there, and the
    /// filter, unlike the map, stays in cache.
    bloom: Vec<u64>,
    /// `bloom`'s word count minus one.
    bloom_mask: u64,
}

/// A trie node: where its edges start, and the token it spells (`NONE`).
#[derive(Clone, Copy)]
struct Node {
    first: u32,
    token: u32,
}

/// What the encoder knows of one token.
#[derive(Clone, Copy)]
struct Info {
    /// 0 for a single symbol, else its merge priority + 1; `NONE` when the
    /// token can never appear in a result.
    prio: u32,
    /// The two tokens its last merge joins (itself twice for a single
    /// symbol).
    left: u32,
    right: u32,
    /// The number of input symbols it spans (0 when it can never appear).
    len: u32,
    /// The longest token that is a proper prefix of it, or `NONE`.
    next_prefix: u32,
}

impl std::fmt::Debug for Backtrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backtrack")
            .field("tokens", &self.info.len())
            .field("trie_nodes", &self.nodes.len())
            .finish()
    }
}

#[inline(always)]
fn key(a: u32, b: u32) -> u64 {
    (a as u64) << 32 | b as u64
}

/// The Bloom filter word of a pair key, and the two bits it sets there.
#[inline(always)]
fn bloom_bits(key: u64, mask: u64) -> (usize, u64) {
    let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (
        ((h >> 40) & mask) as usize,
        1 << (h & 63) | 1 << ((h >> 6) & 63),
    )
}

impl Backtrack {
    /// Builds the encoder of a vocabulary of `n` token ids.
    ///
    /// `atoms` pairs each input symbol with the token it is on its own;
    /// `rules` are every merge. `check_spelling`: whether to check that
    /// every rule's two sides spell its merged token (needless when tokens
    /// are byte strings and rules join them). `reference(symbols)` is the
    /// reference merge
    /// of a symbol sequence; it is run only for tokens the method cannot
    /// explain, to check that the reference never produces them either.
    /// `None` when the vocabulary does not meet the method's condition (or a
    /// rule names an id outside `0..n`).
    pub(crate) fn build(
        n: usize,
        atoms: &[(u32, u32)],
        mut rules: Vec<Rule>,
        check_spelling: bool,
        reference: impl Fn(&[u32]) -> Vec<u32>,
    ) -> Option<Backtrack> {
        if n >= NONE as usize
            || rules.iter().any(|&(l, r, p, m)| {
                l as usize >= n || r as usize >= n || m as usize >= n || p >= NONE - 2
            })
            || atoms.iter().any(|&(_, t)| t as usize >= n)
        {
            return None;
        }
        let mut info = vec![
            Info {
                prio: NONE,
                left: NONE,
                right: NONE,
                len: 0,
                next_prefix: NONE,
            };
            n
        ];
        let mut symbol = vec![NONE; n];
        for &(s, t) in atoms {
            let i = &mut info[t as usize];
            if i.prio == 0 {
                return None; // two symbols for one token
            }
            (i.prio, i.left, i.right) = (0, t, t);
            symbol[t as usize] = s;
        }
        rules.sort_by_key(|r| r.2);
        let mut bt = Backtrack {
            root: Vec::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            info,
            pairs: FxHashMap::default(),
            bloom: Vec::new(),
            bloom_mask: 0,
        };
        let prio = |bt: &Backtrack, t: u32| bt.info[t as usize].prio;
        // Splits, lowest priority first: a token's split is the rule of
        // lowest priority whose two sides exist earlier and pass the pair
        // check below the token's own priority.
        let mut order = Vec::new();
        for &(l, r, p, m) in &rules {
            let pm = p + 1;
            if prio(&bt, m) != NONE
                || prio(&bt, l) == NONE
                || prio(&bt, r) == NONE
                || prio(&bt, l) >= pm
                || prio(&bt, r) >= pm
            {
                continue;
            }
            if !bt.valid_below(l, r, pm) {
                continue;
            }
            let i = &mut bt.info[m as usize];
            (i.prio, i.left, i.right) = (pm, l, r);
            bt.pairs.insert(key(l, r), m);
            order.push(m);
        }
        // Each token's symbols, in order of priority (sides before wholes).
        let mut spans: Vec<(u32, u32)> = vec![(0, 0); n];
        let mut symbols: Vec<u32> = Vec::new();
        for &(s, t) in atoms {
            spans[t as usize] = (symbols.len() as u32, 1);
            symbols.push(s);
        }
        for &m in &order {
            let Info { left, right, .. } = bt.info[m as usize];
            let start = symbols.len();
            for side in [left, right] {
                let (a, len) = spans[side as usize];
                symbols.extend_from_within(a as usize..(a + len) as usize);
            }
            if symbols.len() > u32::MAX as usize {
                return None;
            }
            spans[m as usize] = (start as u32, (symbols.len() - start) as u32);
        }
        let of = |t: u32| -> &[u32] {
            let (a, len) = spans[t as usize];
            &symbols[a as usize..(a + len) as usize]
        };
        // Tokens nothing explains must never come out of the reference merge
        // either; rules must spell their merged token.
        let mut checked = vec![false; n];
        for &(l, r, _, m) in &rules {
            if prio(&bt, l) == NONE || prio(&bt, r) == NONE {
                continue;
            }
            let (left, right) = (of(l), of(r));
            if prio(&bt, m) == NONE {
                if !std::mem::replace(&mut checked[m as usize], true) {
                    let whole: Vec<u32> = left.iter().chain(right).copied().collect();
                    if reference(&whole) == [m] {
                        return None;
                    }
                }
            } else if check_spelling {
                let whole = of(m);
                if whole.len() != left.len() + right.len()
                    || whole[..left.len()] != *left
                    || whole[left.len()..] != *right
                {
                    return None;
                }
            }
        }
        // The trie, built with a map and then laid out flat.
        let max_symbol = atoms
            .iter()
            .map(|&(s, _)| s)
            .max()
            .map_or(0, |s| s as usize + 1);
        let mut root = vec![NONE; max_symbol];
        let mut node_token: Vec<u32> = Vec::new();
        let mut children: FxHashMap<u64, u32> = FxHashMap::default();
        for &(s, t) in atoms {
            root[s as usize] = node_token.len() as u32;
            node_token.push(t);
        }
        for &m in &order {
            let syms = of(m);
            let mut node = root[syms[0] as usize];
            for &s in &syms[1..] {
                node = *children.entry(key(node, s)).or_insert_with(|| {
                    node_token.push(NONE);
                    (node_token.len() - 1) as u32
                });
            }
            if node_token[node as usize] != NONE {
                return None; // two tokens spell the same symbols
            }
            node_token[node as usize] = m;
        }
        // The longest shorter token that each token starts with.
        for &m in &order {
            let syms = of(m);
            let mut node = root[syms[0] as usize];
            let mut prefix = node_token[node as usize];
            for &s in &syms[1..syms.len() - 1] {
                node = children[&key(node, s)];
                if node_token[node as usize] != NONE {
                    prefix = node_token[node as usize];
                }
            }
            bt.info[m as usize].next_prefix = prefix;
        }
        for (i, &(_, len)) in bt.info.iter_mut().zip(&spans) {
            if i.prio != NONE {
                i.len = len;
            }
        }
        let mut edges: Vec<(u32, u32, u32)> = children
            .into_iter()
            .map(|(k, child)| ((k >> 32) as u32, k as u32, child))
            .collect();
        edges.sort_unstable();
        let mut first = vec![0u32; node_token.len() + 1];
        for &(parent, _, _) in &edges {
            first[parent as usize + 1] += 1;
        }
        for k in 1..first.len() {
            first[k] += first[k - 1];
        }
        bt.edges = edges
            .iter()
            .map(|&(_, symbol, child)| u64::from(symbol) << 32 | u64::from(child))
            .collect();
        bt.nodes = first
            .iter()
            .enumerate()
            .map(|(k, &first)| Node {
                first,
                token: node_token.get(k).copied().unwrap_or(NONE),
            })
            .collect();
        let words = (bt.pairs.len() * 16 / 64).next_power_of_two().max(64);
        bt.bloom = vec![0u64; words];
        bt.bloom_mask = words as u64 - 1;
        for &k in bt.pairs.keys() {
            let (w, bits) = bloom_bits(k, bt.bloom_mask);
            bt.bloom[w] |= bits;
        }
        bt.root = root;
        Some(bt)
    }

    /// Whether `a` then `b` is its own encoding: no merge across their
    /// boundary fires, with priority below `limit`, before both are formed.
    #[inline]
    fn valid_below(&self, mut a: u32, mut b: u32, mut limit: u32) -> bool {
        let mut ia = self.info[a as usize];
        let mut ib = self.info[b as usize];
        loop {
            if self.maybe_pair(a, b)
                && let Some(&m) = self.pairs.get(&key(a, b))
                && self.info[m as usize].prio < limit
            {
                return false;
            }
            if ia.prio > ib.prio {
                // `a` formed last: before it, its right side met `b`; a merge
                // there wins only with a lower priority (`a`'s is leftmost).
                limit = ia.prio;
                a = ia.right;
                ia = self.info[a as usize];
            } else if ib.prio > 0 {
                // `b` formed last (or with `a`, to its right): a merge of
                // `a` with `b`'s left side wins ties, being leftmost.
                limit = ib.prio + 1;
                b = ib.left;
                ib = self.info[b as usize];
            } else {
                return true;
            }
        }
    }

    /// `false` when `a` then `b` is certainly not a split (the Bloom
    /// filter); while building, before the filter exists, always `true`.
    #[inline(always)]
    fn maybe_pair(&self, a: u32, b: u32) -> bool {
        if self.bloom.is_empty() {
            return true;
        }
        let (w, bits) = bloom_bits(key(a, b), self.bloom_mask);
        self.bloom[w] & bits == bits
    }

    #[inline]
    fn child(&self, node: u32, symbol: u32) -> Option<u32> {
        let (a, b) = (
            self.nodes[node as usize].first as usize,
            self.nodes[node as usize + 1].first as usize,
        );
        let edges = &self.edges[a..b];
        let want = u64::from(symbol) << 32;
        let k = if edges.len() <= 8 {
            edges.iter().position(|&e| e & !0xFFFF_FFFF == want)?
        } else {
            edges
                .binary_search_by(|&e| (e & !0xFFFF_FFFF).cmp(&want))
                .ok()?
        };
        Some(edges[k] as u32)
    }

    /// The longest token at the start of `input`.
    #[inline]
    fn longest<T: Copy + Into<u32>>(&self, input: &[T]) -> Option<u32> {
        let first = (*input.first()?).into();
        let mut node = *self.root.get(first as usize)?;
        if node == NONE {
            return None;
        }
        let mut best = self.nodes[node as usize].token;
        for &s in &input[1..] {
            match self.child(node, s.into()) {
                Some(c) => {
                    node = c;
                    let t = self.nodes[c as usize].token;
                    if t != NONE {
                        best = t;
                    }
                }
                None => break,
            }
        }
        Some(best)
    }

    /// Appends the encoding of `input` (symbols as in [`Backtrack::build`])
    /// to `out`. `false`, with `out` unchanged, when a symbol is not in the
    /// vocabulary.
    pub(crate) fn encode<T: Copy + Into<u32>>(&self, input: &[T], out: &mut Vec<u32>) -> bool {
        let n = input.len();
        let base = out.len();
        // Bit k set: position k may still end a token.
        let mut open = vec![u64::MAX; n / 64 + 1];
        let mut pos = 0usize;
        let mut next = self.longest(input);
        while let Some(mut token) = next {
            let last = (out.len() > base).then(|| out[out.len() - 1]);
            loop {
                let info = self.info[token as usize];
                let end = pos + info.len as usize;
                if open[end / 64] >> (end % 64) & 1 == 1
                    && last.is_none_or(|l| self.valid_below(l, token, NONE))
                {
                    out.push(token);
                    pos = end;
                    next = self.longest(&input[end..]);
                    break;
                }
                if info.next_prefix != NONE {
                    token = info.next_prefix;
                    continue;
                }
                open[pos / 64] &= !(1u64 << (pos % 64));
                match last {
                    Some(l) => {
                        out.pop();
                        pos -= self.info[l as usize].len as usize;
                        next = Some(l);
                    }
                    None => next = None,
                }
                break;
            }
        }
        if pos != n {
            out.truncate(base);
            return false;
        }
        true
    }
}
