//! Value edits: the candidates that keep a scenario's shape and make its operations' bytes smaller.
//!
//! One operation at a time is not enough when the bug needs several operations to agree: three
//! ops on keys that collide (`k % 3 == 2`) lose the collision as soon as any one of them moves
//! alone, so a shrinker that only edits one op stops at `Count(14)`, `Count(236)`, `Get(80)`. The
//! joint edits move several ops together, byte position by byte position: every op's byte made
//! the smallest of them (so they agree), and each group of ops that agree zeroed, halved or
//! decremented as one. Bytes, not decoded values, are edited, so this works for any `Arbitrary`
//! operation type; edits that change an op's variant are simply candidates that fail.

use crate::scenario::Chunks;

/// Where an operation's chunk is: the init part, a thread (`Thread(t)`), or the post part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Init(usize),
    Thread(usize, usize),
    Post(usize),
}

fn places(c: &Chunks) -> Vec<Place> {
    (0..c.init.len())
        .map(Place::Init)
        .chain(
            c.threads
                .iter()
                .enumerate()
                .flat_map(|(t, ops)| (0..ops.len()).map(move |i| Place::Thread(t, i))),
        )
        .chain((0..c.post.len()).map(Place::Post))
        .collect()
}

fn chunk(c: &Chunks, p: Place) -> &Vec<u8> {
    match p {
        Place::Init(i) => &c.init[i],
        Place::Thread(t, i) => &c.threads[t][i],
        Place::Post(i) => &c.post[i],
    }
}

fn chunk_mut(c: &mut Chunks, p: Place) -> &mut Vec<u8> {
    match p {
        Place::Init(i) => &mut c.init[i],
        Place::Thread(t, i) => &mut c.threads[t][i],
        Place::Post(i) => &mut c.post[i],
    }
}

/// Every value edit of `c`: each operation's bytes zeroed, halved in length, one shorter, halved;
/// then the joint edits (see the module's doc). Edits that change nothing are left out.
pub(crate) fn candidates(c: &Chunks) -> Vec<Chunks> {
    let all = places(c);
    let mut out = Vec::new();
    for &place in &all {
        let edits: [fn(&mut Vec<u8>); 4] = [
            |b| b.iter_mut().for_each(|x| *x = 0),
            |b| b.truncate(b.len() / 2),
            |b| {
                b.pop();
            },
            |b| b.iter_mut().for_each(|x| *x /= 2),
        ];
        for edit in edits {
            let mut n = c.clone();
            edit(chunk_mut(&mut n, place));
            if chunk(&n, place) != chunk(c, place) {
                out.push(n);
            }
        }
    }
    out.extend(joint(c, &all));
    // Edits can coincide (zeroing and halving a `1`, a group that is every op): each candidate
    // costs schedules, so keep the first of each.
    let mut i = 0;
    while i < out.len() {
        if out[..i].contains(&out[i]) {
            out.remove(i);
        } else {
            i += 1;
        }
    }
    out
}

/// The joint edits at each byte position that at least two operations have set (non-zero).
fn joint(c: &Chunks, all: &[Place]) -> Vec<Chunks> {
    let mut out = Vec::new();
    let longest = all.iter().map(|&p| chunk(c, p).len()).max().unwrap_or(0);
    for pos in 0..longest {
        let holders: Vec<(Place, u8)> = all
            .iter()
            .filter_map(|&p| chunk(c, p).get(pos).map(|&b| (p, b)))
            .filter(|&(_, b)| b != 0)
            .collect();
        if holders.len() < 2 {
            continue;
        }
        let set = |members: &[Place], f: &dyn Fn(u8) -> u8| {
            let mut n = c.clone();
            for &p in members {
                let b = &mut chunk_mut(&mut n, p)[pos];
                *b = f(*b);
            }
            n
        };
        // Toward one value: every holder takes the smallest holder's byte.
        let least = holders.iter().map(|&(_, b)| b).min().expect("two holders");
        if holders.iter().any(|&(_, b)| b != least) {
            let members: Vec<Place> = holders.iter().map(|&(p, _)| p).collect();
            out.push(set(&members, &|_| least));
        }
        // Then each group that agrees moves as one toward zero.
        let mut values: Vec<u8> = holders.iter().map(|&(_, b)| b).collect();
        values.sort_unstable();
        values.dedup();
        for v in values {
            let members: Vec<Place> = holders.iter().filter(|&&(_, b)| b == v).map(|&(p, _)| p).collect();
            if members.len() < 2 {
                continue;
            }
            out.push(set(&members, &|_| 0));
            if v > 1 {
                out.push(set(&members, &|b| b / 2));
            }
            if v > 2 {
                out.push(set(&members, &|b| b - 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(values: [u8; 3]) -> Chunks {
        // Two threads of one op each and a post op: [tag, value].
        Chunks {
            init: vec![],
            threads: vec![vec![vec![1, values[0]]], vec![vec![1, values[1]]]],
            post: vec![vec![9, values[2]]],
        }
    }

    #[test]
    fn ops_move_together_to_one_value_then_toward_zero() {
        let all = candidates(&words([14, 236, 80]));
        assert!(all.contains(&words([14, 14, 14])), "toward the smallest together");
        let agreed = candidates(&words([14, 14, 14]));
        assert!(agreed.contains(&words([0, 0, 0])));
        assert!(agreed.contains(&words([7, 7, 7])));
        assert!(agreed.contains(&words([13, 13, 13])));
    }

    #[test]
    fn single_ops_and_no_op_edits() {
        let c = words([4, 0, 0]);
        let all = candidates(&c);
        assert!(all.iter().all(|n| n != &c), "every candidate changes something");
        let mut zeroed = c.clone();
        zeroed.threads[0][0] = vec![0, 0];
        assert!(all.contains(&zeroed), "one op alone still shrinks");
        for (i, n) in all.iter().enumerate() {
            assert!(!all[..i].contains(n), "no candidate twice");
        }
    }
}
