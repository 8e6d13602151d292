//! "Did you mean …?" for unknown task names, as go-task computes it: a symmetric-delete
//! spelling model (the `sajari/fuzzy` model go-task trains with threshold 1 and depth 2 on
//! every non-internal task name and alias). The rules, from that model: an input that is a
//! known word (seen more than once) is itself; else the words whose delete-keys equal the
//! input; else known words of length > 2 within two deletes of the input; else words
//! sharing a delete-key with the input within Levenshtein 3. The best candidate has the
//! smallest distance, then a shared first byte (+100), then the highest count. Go strings
//! are bytes, so edits work on bytes. Ties, which Go resolves by map order (randomly), go
//! to the candidate found first.

use indexmap::IndexMap;
use std::collections::HashMap;

const DEPTH: usize = 2;
const THRESHOLD: usize = 1;

#[derive(Default)]
pub struct Model {
    counts: HashMap<Vec<u8>, usize>,
    suggest: IndexMap<Vec<u8>, Vec<Vec<u8>>>,
}

fn edits1(word: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(word.len() + 2);
    for i in 0..word.len() {
        let mut w = word[..i].to_vec();
        w.extend_from_slice(&word[i + 1..]);
        out.push(w);
    }
    out.push(word.to_vec());
    if word.ends_with(b"ies") {
        let mut w = word[..word.len() - 3].to_vec();
        w.extend_from_slice(b"ys");
        out.push(w);
    }
    if word.ends_with(b"ys") {
        let mut w = word[..word.len() - 2].to_vec();
        w.extend_from_slice(b"ies");
        out.push(w);
    }
    out
}

fn edits(word: &[u8]) -> Vec<Vec<u8>> {
    let mut e = edits1(word);
    for _ in 1..DEPTH {
        let level: Vec<Vec<u8>> = e.iter().flat_map(|w| edits1(w)).collect();
        e.extend(level);
    }
    e
}

fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut d: Vec<usize> = (0..=a.len()).collect();
    for i in 1..=b.len() {
        let mut lastdiag = i - 1;
        d[0] = i;
        for j in 1..=a.len() {
            let old = d[j];
            let cost = usize::from(a[j - 1] != b[i - 1]);
            d[j] = (d[j] + 1).min(d[j - 1] + 1).min(lastdiag + cost);
            lastdiag = old;
        }
    }
    d[a.len()]
}

impl Model {
    pub fn train<'a>(words: impl IntoIterator<Item = &'a str>) -> Model {
        let mut m = Model::default();
        for w in words {
            let w = w.as_bytes().to_vec();
            let c = m.counts.entry(w.clone()).or_insert(0);
            *c += 1;
            if *c == THRESHOLD {
                for e in edits(&w) {
                    if e.len() <= 1 {
                        continue;
                    }
                    let hits = m.suggest.entry(e).or_default();
                    if !hits.contains(&w) {
                        hits.push(w.clone());
                    }
                }
            }
        }
        m
    }

    fn count(&self, w: &[u8]) -> usize {
        self.counts.get(w).copied().unwrap_or(0)
    }

    /// The suggestion for `input`, if any.
    pub fn spell_check(&self, input: &str) -> Option<String> {
        let input = input.to_lowercase().into_bytes();
        if input.is_empty() {
            return None;
        }
        // (term, score, distance) in the order found.
        let mut pots: IndexMap<Vec<u8>, (usize, usize)> = IndexMap::new();
        if self.count(&input) > THRESHOLD {
            return Some(String::from_utf8_lossy(&input).into_owned());
        }
        if let Some(hits) = self.suggest.get(&input) {
            for p in hits {
                pots.entry(p.clone())
                    .or_insert((self.count(p), levenshtein(&input, p)));
            }
        }
        if pots.is_empty() {
            let es = edits(&input);
            for e in &es {
                let score = self.count(e);
                if score > 0 && e.len() > 2 {
                    pots.entry(e.clone())
                        .or_insert((score, levenshtein(&input, e)));
                }
            }
            if pots.is_empty() {
                for e in &es {
                    if let Some(hits) = self.suggest.get(e) {
                        for p in hits {
                            let lev = levenshtein(&input, p);
                            if lev <= DEPTH + 1 {
                                pots.entry(p.clone()).or_insert((self.count(p), lev));
                            }
                        }
                    }
                }
            }
        }
        let mut best: Option<&Vec<u8>> = None;
        let mut best_calc = 0;
        for i in 0..4 {
            for (term, (score, lev)) in &pots {
                if *lev == 0 {
                    return Some(String::from_utf8_lossy(term).into_owned());
                }
                if *lev == i {
                    let bonus = if term.first() == input.first() {
                        100
                    } else {
                        0
                    };
                    if score + bonus > best_calc {
                        best_calc = score + bonus;
                        best = Some(term);
                    }
                }
            }
            if best_calc > 0 {
                break;
            }
        }
        best.map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_like_go_tasks_model() {
        let m = Model::train(["build", "test", "lint", "x", "website:default", "w"]);
        assert_eq!(m.spell_check("biuld").as_deref(), Some("build"));
        assert_eq!(m.spell_check("tset").as_deref(), Some("test"));
        assert_eq!(m.spell_check("lin").as_deref(), Some("lint"));
        // One-letter names get no delete keys and are never suggested for another letter.
        assert_eq!(m.spell_check("z"), None);
        assert_eq!(m.spell_check("completely-different"), None);
    }
}
