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
    /// Trie: the edges of node `k` are `edges[first[k]..first[k + 1]]`,
    /// sorted by symbol.
    first: Vec<u32>,
    edge_symbol: Vec<u32>,
    edge_node: Vec<u32>,
    /// The token a trie node spells, or `NONE`.
    node_token: Vec<u32>,
    /// Per token: the number of input symbols it spans (0 when it can never
    /// appear in a result).
    len: Vec<u32>,
    /// Per token: the longest token that is a proper prefix of it.
    next_prefix: Vec<u32>,
    /// Per token: the two tokens its last merge joins (itself twice for a
    /// single symbol).
    split: Vec<(u32, u32)>,
    /// Per token: 0 for a single symbol, else its merge priority + 1.
    prio: Vec<u32>,
    /// `(left << 32 | right)` -> merged token, for the splits.
    pairs: FxHashMap<u64, u32>,
    /// A Bloom filter of `pairs` (two bits per pair, about 16 bits per
    /// pair): most pairs checked are not there, and the filter, unlike the
    /// map, stays in cache.
    bloom: Vec<u64>,
    /// `bloom`'s bit count minus one.
    bloom_mask: u64,
}

impl std::fmt::Debug for Backtrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backtrack")
            .field("tokens", &self.len.len())
            .field("trie_nodes", &self.node_token.len())
            .finish()
    }
}

#[inline(always)]
fn key(a: u32, b: u32) -> u64 {
    (a as u64) << 32 | b as u64
}

/// The two Bloom filter bits of a pair key.
#[inline(always)]
fn bloom_bits(key: u64, mask: u64) -> (u64, u64) {
    let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((h >> 40) & mask, (h >> 13) & mask)
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
        let mut prio = vec![NONE; n];
        let mut split = vec![(NONE, NONE); n];
        let mut symbol = vec![NONE; n];
        for &(s, t) in atoms {
            if prio[t as usize] == 0 {
                return None; // two symbols for one token
            }
            prio[t as usize] = 0;
            split[t as usize] = (t, t);
            symbol[t as usize] = s;
        }
        rules.sort_by_key(|r| r.2);
        let mut bt = Backtrack {
            root: Vec::new(),
            first: Vec::new(),
            edge_symbol: Vec::new(),
            edge_node: Vec::new(),
            node_token: Vec::new(),
            len: vec![0; n],
            next_prefix: vec![NONE; n],
            split,
            prio,
            pairs: FxHashMap::default(),
            bloom: Vec::new(),
            bloom_mask: 0,
        };
        // Splits, lowest priority first: a token's split is the rule of
        // lowest priority whose two sides exist earlier and pass the pair
        // check below the token's own priority.
        let mut order = Vec::new();
        for &(l, r, p, m) in &rules {
            let (li, ri, mi) = (l as usize, r as usize, m as usize);
            let pm = p + 1;
            if bt.prio[mi] != NONE
                || bt.prio[li] == NONE
                || bt.prio[ri] == NONE
                || bt.prio[li] >= pm
                || bt.prio[ri] >= pm
            {
                continue;
            }
            if !bt.valid_below(l, r, pm) {
                continue;
            }
            bt.prio[mi] = pm;
            bt.split[mi] = (l, r);
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
            let (l, r) = bt.split[m as usize];
            let start = symbols.len();
            for side in [l, r] {
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
            if bt.prio[l as usize] == NONE || bt.prio[r as usize] == NONE {
                continue;
            }
            let (left, right) = (of(l), of(r));
            if bt.prio[m as usize] == NONE {
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
            bt.next_prefix[m as usize] = prefix;
        }
        for (t, &(_, len)) in spans.iter().enumerate() {
            if bt.prio[t] != NONE {
                bt.len[t] = len;
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
        bt.edge_symbol = edges.iter().map(|e| e.1).collect();
        bt.edge_node = edges.iter().map(|e| e.2).collect();
        let bits = (bt.pairs.len() * 16).next_power_of_two().max(1 << 12);
        bt.bloom = vec![0u64; bits / 64];
        bt.bloom_mask = bits as u64 - 1;
        for &k in bt.pairs.keys() {
            let (x, y) = bloom_bits(k, bt.bloom_mask);
            bt.bloom[(x / 64) as usize] |= 1 << (x % 64);
            bt.bloom[(y / 64) as usize] |= 1 << (y % 64);
        }
        bt.first = first;
        bt.root = root;
        bt.node_token = node_token;
        Some(bt)
    }

    /// Whether `a` then `b` is its own encoding: no merge across their
    /// boundary fires, with priority below `limit`, before both are formed.
    fn valid_below(&self, mut a: u32, mut b: u32, mut limit: u32) -> bool {
        loop {
            if self.maybe_pair(a, b)
                && let Some(&m) = self.pairs.get(&key(a, b))
                && self.prio[m as usize] < limit
            {
                return false;
            }
            let (pa, pb) = (self.prio[a as usize], self.prio[b as usize]);
            if pa > pb {
                // `a` formed last: before it, its right side met `b`; a merge
                // there wins only with a lower priority (`a`'s is leftmost).
                limit = pa;
                a = self.split[a as usize].1;
            } else if pb > 0 {
                // `b` formed last (or with `a`, to its right): a merge of
                // `a` with `b`'s left side wins ties, being leftmost.
                limit = pb + 1;
                b = self.split[b as usize].0;
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
        let (x, y) = bloom_bits(key(a, b), self.bloom_mask);
        self.bloom[(x / 64) as usize] >> (x % 64) & 1 == 1
            && self.bloom[(y / 64) as usize] >> (y % 64) & 1 == 1
    }

    #[inline]
    fn child(&self, node: u32, symbol: u32) -> Option<u32> {
        let (a, b) = (
            self.first[node as usize] as usize,
            self.first[node as usize + 1] as usize,
        );
        let syms = &self.edge_symbol[a..b];
        let k = if syms.len() <= 8 {
            syms.iter().position(|&s| s == symbol)?
        } else {
            syms.binary_search(&symbol).ok()?
        };
        Some(self.edge_node[a + k])
    }

    /// The longest token at the start of `input`.
    #[inline]
    fn longest<T: Copy + Into<u32>>(&self, input: &[T]) -> Option<u32> {
        let first = (*input.first()?).into();
        let mut node = *self.root.get(first as usize)?;
        if node == NONE {
            return None;
        }
        let mut best = self.node_token[node as usize];
        for &s in &input[1..] {
            match self.child(node, s.into()) {
                Some(c) => {
                    node = c;
                    let t = self.node_token[c as usize];
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
                let end = pos + self.len[token as usize] as usize;
                if open[end / 64] >> (end % 64) & 1 == 1
                    && last.is_none_or(|l| self.valid_below(l, token, NONE))
                {
                    out.push(token);
                    pos = end;
                    next = self.longest(&input[end..]);
                    break;
                }
                let shorter = self.next_prefix[token as usize];
                if shorter != NONE {
                    token = shorter;
                    continue;
                }
                open[pos / 64] &= !(1u64 << (pos % 64));
                match last {
                    Some(l) => {
                        out.pop();
                        pos -= self.len[l as usize] as usize;
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
