//! The tiled transparency log under a Go checksum database: record and node hashes
//! (RFC 6962), the order in which the log stores its hashes, tiles of those hashes, and
//! which tiles a client reads to prove records and tree growth, with the check of such tiles
//! against a signed tree hash. The arithmetic follows the published design of the Go
//! checksum database ("Transparent Logs for Skeptical Clients"); the tile plan is the one
//! the go command makes, so a bundle holding the planned tiles answers every tile it asks.

use sha2::{Digest as _, Sha256};
use std::collections::HashMap;

/// A SHA-256 hash in the log.
pub type Hash = [u8; 32];

/// Tile height the go command reads (`tile/8/…`).
pub const HEIGHT: u32 = 8;

/// The hash of one record (a leaf).
pub fn record_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Where the `n`th hash of `level` sits in the log's sequence of stored hashes.
pub fn stored_hash_index(level: u32, mut n: i64) -> i64 {
    for _ in 0..level {
        n = 2 * n + 1;
    }
    let mut i = 0;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + level as i64
}

/// The inverse of [`stored_hash_index`]: `(level, n)`.
pub fn split_stored_hash_index(index: i64) -> (u32, i64) {
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    loop {
        let x = index_n + 1 + (n + 1).trailing_zeros() as i64;
        if x > index {
            break;
        }
        n += 1;
        index_n = x;
    }
    let level = (index - index_n) as u32;
    (level, n >> level)
}

/// A tile: `W` hashes of level `L·H` from position `N·2^H`, with every level above
/// them up to `L·H+H-1` implied (bundle-format.md §5, `go-sumdb-tile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Height.
    pub h: u32,
    /// Tile level.
    pub l: u32,
    /// Index at that level.
    pub n: i64,
    /// Width: how many of the tile's `2^H` bottom hashes it holds.
    pub w: i64,
}

impl Tile {
    /// The path under the database URL, without `tile/`: `8/0/x001/234.p/5`.
    pub fn path(&self) -> String {
        let mut n = self.n;
        let mut s = format!("{:03}", n % 1000);
        while n >= 1000 {
            n /= 1000;
            s = format!("x{:03}/{s}", n % 1000);
        }
        let p = if self.w != 1 << self.h {
            format!(".p/{}", self.w)
        } else {
            String::new()
        };
        format!("{}/{}/{s}{p}", self.h, self.l)
    }

    /// Parses a path made by [`Tile::path`] (hash tiles only; data tiles are not read);
    /// anything but the canonical spelling is refused.
    pub fn parse(path: &str) -> Option<Tile> {
        let (body, w) = match path.split_once(".p/") {
            Some((p, w)) => (p, Some(w.parse::<i64>().ok()?)),
            None => (path, None),
        };
        let mut parts = body.split('/');
        let h: u32 = parts.next()?.parse().ok()?;
        let l: u32 = parts.next()?.parse().ok()?;
        if !(1..=30).contains(&h) || l >= 64 {
            return None;
        }
        let rest: Vec<&str> = parts.collect();
        if rest.is_empty() {
            return None;
        }
        let mut n: i64 = 0;
        for (i, part) in rest.iter().enumerate() {
            let digits = if i + 1 < rest.len() {
                part.strip_prefix('x')?
            } else {
                part
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            n = n
                .checked_mul(1000)?
                .checked_add(digits.parse::<i64>().ok()?)?;
        }
        let full = 1i64 << h;
        let t = Tile {
            h,
            l,
            n,
            w: w.unwrap_or(full),
        };
        ((1..=full).contains(&t.w) && t.path() == path).then_some(t)
    }
}

/// The tile holding stored hash `index`, and the byte range of the hashes under it.
fn tile_for_index(h: u32, index: i64) -> (Tile, usize, usize) {
    let (mut level, mut n) = split_stored_hash_index(index);
    let l = level / h;
    level -= l * h;
    let tn = (n << level) >> h;
    n -= (tn << h) >> level;
    let w = (n + 1) << level;
    let t = Tile { h, l, n: tn, w };
    (
        t,
        ((n << level) * 32) as usize,
        (((n + 1) << level) * 32) as usize,
    )
}

fn tile_hash(data: &[u8]) -> Hash {
    if data.len() == 32 {
        return data.try_into().expect("32 bytes");
    }
    let half = data.len() / 2;
    node_hash(&tile_hash(&data[..half]), &tile_hash(&data[half..]))
}

/// The stored hash `index` out of tile `t`'s data.
pub fn hash_from_tile(t: &Tile, data: &[u8], index: i64) -> Result<Hash, String> {
    if data.len() < (t.w * 32) as usize {
        return Err(format!(
            "tile {} is {} bytes, too short",
            t.path(),
            data.len()
        ));
    }
    let (t1, start, end) = tile_for_index(t.h, index);
    if t.l != t1.l || t.n != t1.n || t.w < t1.w {
        return Err(format!(
            "hash {index} is in tile {}, not {}",
            t1.path(),
            t.path()
        ));
    }
    Ok(tile_hash(&data[start..end]))
}

/// The tile `k` levels above `t` in a tree of `n` records, as wide as the tree makes it;
/// `None` when the tree does not reach it.
fn tile_parent(t: Tile, k: u32, n: i64) -> Option<Tile> {
    let mut t = t;
    t.l += k;
    t.n >>= k * t.h;
    t.w = 1 << t.h;
    let max = n >> (t.l * t.h);
    if (t.n << t.h) + t.w >= max {
        if t.n << t.h >= max {
            return None;
        }
        t.w = max - (t.n << t.h);
    }
    Some(t)
}

fn maxpow2(n: i64) -> (i64, u32) {
    let mut l = 0;
    while (1i64 << (l + 1)) < n {
        l += 1;
    }
    (1 << l, l)
}

fn sub_tree_index(mut lo: i64, hi: i64, need: &mut Vec<i64>) {
    while lo < hi {
        let (k, level) = maxpow2(hi - lo + 1);
        need.push(stored_hash_index(level, lo >> level));
        lo += k;
    }
}

/// The stored hashes that prove a tree of `n` records grew from one of `m`.
pub fn tree_proof_indexes(n: i64, m: i64) -> Vec<i64> {
    fn walk(lo: i64, hi: i64, m: i64, need: &mut Vec<i64>) {
        if m == hi {
            if lo != 0 {
                sub_tree_index(lo, hi, need);
            }
            return;
        }
        let (k, _) = maxpow2(hi - lo);
        if m <= lo + k {
            walk(lo, lo + k, m, need);
            sub_tree_index(lo + k, hi, need);
        } else {
            sub_tree_index(lo, lo + k, need);
            walk(lo + k, hi, m, need);
        }
    }
    let mut need = Vec::new();
    if 0 < m && m <= n {
        walk(0, n, m, &mut need);
    }
    need
}

/// The tiles a client reads, in order, to learn the stored hashes `indexes` of a tree of
/// `n` records and check them against its tree hash: first those that recompute the tree
/// hash, then each index's tile with the parents that vouch for it.
pub fn plan(n: i64, indexes: &[i64]) -> Result<Vec<Tile>, String> {
    let h = HEIGHT;
    let mut order: HashMap<Tile, usize> = HashMap::new();
    let mut tiles = Vec::new();
    let mut stx = Vec::new();
    sub_tree_index(0, n, &mut stx);
    for &x in &stx {
        let t = tile_parent(tile_for_index(h, x).0, 0, n).ok_or("bad tile arithmetic")?;
        if let std::collections::hash_map::Entry::Vacant(e) = order.entry(t) {
            e.insert(tiles.len());
            tiles.push(t);
        }
    }
    for &x in indexes {
        if x >= stored_hash_index(0, n) {
            return Err(format!("hash {x} is not in a tree of {n} records"));
        }
        let t = tile_for_index(h, x).0;
        let mut k = 0;
        while !tile_parent(t, k, n).is_some_and(|p| order.contains_key(&p)) {
            k += 1;
            if k > 64 {
                return Err("bad tile arithmetic".into());
            }
        }
        while k > 0 {
            k -= 1;
            let p = tile_parent(t, k, n).ok_or("bad tile arithmetic")?;
            if p.w != 1 << p.h {
                return Err(format!("tile {} should be full", p.path()));
            }
            order.insert(p, tiles.len());
            tiles.push(p);
        }
    }
    Ok(tiles)
}

/// Checks the tiles of a [`plan`] against the tree hash, as the go command does, and
/// returns the stored hashes `indexes` read from them.
pub fn read_hashes(
    n: i64,
    tree_hash: &Hash,
    indexes: &[i64],
    tiles: &[Tile],
    data: &[Vec<u8>],
) -> Result<Vec<Hash>, String> {
    let order: HashMap<Tile, usize> = tiles.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let find = |t: Tile| order.get(&t).copied().ok_or("a planned tile is missing");
    let mut stx = Vec::new();
    sub_tree_index(0, n, &mut stx);
    let tile_of = |x: i64| -> Result<usize, String> {
        let t = tile_parent(tile_for_index(HEIGHT, x).0, 0, n).ok_or("bad tile arithmetic")?;
        Ok(find(t)?)
    };
    if let Some(&last) = stx.last() {
        let j = tile_of(last)?;
        let mut th = hash_from_tile(&tiles[j], &data[j], last)?;
        for &x in stx.iter().rev().skip(1) {
            let j = tile_of(x)?;
            th = node_hash(&hash_from_tile(&tiles[j], &data[j], x)?, &th);
        }
        if &th != tree_hash {
            return Err("the tiles do not add up to the signed tree hash".into());
        }
    }
    // every tile past those of the tree hash is checked against its parent
    let stx_tiles: std::collections::HashSet<usize> =
        stx.iter().map(|&x| tile_of(x)).collect::<Result<_, _>>()?;
    for (i, t) in tiles.iter().enumerate().skip(stx_tiles.len()) {
        let Some(p) = tile_parent(*t, 1, n) else {
            return Err(format!("tile {} has no parent", t.path()));
        };
        let j = find(p)?;
        let want = hash_from_tile(&p, &data[j], stored_hash_index(p.l * p.h, t.n))?;
        if data[i].len() != (t.w * 32) as usize || tile_hash(&data[i]) != want {
            return Err(format!(
                "tile {} does not match its parent {}",
                t.path(),
                p.path()
            ));
        }
    }
    indexes
        .iter()
        .map(|&x| {
            let t = tile_parent(tile_for_index(HEIGHT, x).0, 0, n).ok_or("bad tile arithmetic")?;
            let j = find(t)?;
            hash_from_tile(&tiles[j], &data[j], x)
        })
        .collect()
}

/// The hash of a tree of `n` records, from a function giving stored hashes.
pub fn tree_hash(n: i64, mut stored: impl FnMut(i64) -> Hash) -> Hash {
    let mut stx = Vec::new();
    sub_tree_index(0, n, &mut stx);
    let mut th = stored(*stx.last().expect("a non-empty tree"));
    for &x in stx.iter().rev().skip(1) {
        th = node_hash(&stored(x), &th);
    }
    th
}

/// Checks that the `proof` hashes (in [`tree_proof_indexes`] order) show a tree of `n`
/// records with hash `hn` grew from one of `m` records with hash `hm`.
pub fn check_tree(proof: &[Hash], n: i64, hn: &Hash, m: i64, hm: &Hash) -> bool {
    fn run(p: &[Hash], lo: i64, hi: i64, m: i64, hm: Option<&Hash>) -> Option<(Hash, Hash, usize)> {
        // returns (hash of [lo,m), hash of [lo,hi), hashes used)
        if m == hi {
            if lo == 0 {
                let h = *hm?;
                return Some((h, h, 0));
            }
            let mut used = Vec::new();
            sub_tree_index(lo, hi, &mut used);
            let k = used.len();
            if p.len() < k {
                return None;
            }
            let mut th = p[k - 1];
            for i in (0..k - 1).rev() {
                th = node_hash(&p[i], &th);
            }
            return Some((th, th, k));
        }
        let (k, _) = maxpow2(hi - lo);
        if m <= lo + k {
            let (oh, th, used) = run(p, lo, lo + k, m, hm)?;
            let mut rest = Vec::new();
            sub_tree_index(lo + k, hi, &mut rest);
            let r = &p[used..];
            if r.len() < rest.len() {
                return None;
            }
            let mut right = r[rest.len() - 1];
            for i in (0..rest.len() - 1).rev() {
                right = node_hash(&r[i], &right);
            }
            Some((oh, node_hash(&th, &right), used + rest.len()))
        } else {
            let mut left_idx = Vec::new();
            sub_tree_index(lo, lo + k, &mut left_idx);
            if p.len() < left_idx.len() {
                return None;
            }
            let mut left = p[left_idx.len() - 1];
            for i in (0..left_idx.len() - 1).rev() {
                left = node_hash(&p[i], &left);
            }
            let (oh, th, used) = run(&p[left_idx.len()..], lo + k, hi, m, hm)?;
            Some((
                node_hash(&left, &oh),
                node_hash(&left, &th),
                left_idx.len() + used,
            ))
        }
    }
    if !(0 < m && m <= n) {
        return false;
    }
    if m == n {
        return proof.is_empty() && hn == hm;
    }
    match run(proof, 0, n, m, Some(hm)) {
        Some((old, new, used)) => used == proof.len() && &old == hm && &new == hn,
        None => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An in-memory log: every stored hash, in order.
    pub struct Log {
        pub stored: Vec<Hash>,
        pub n: i64,
    }

    impl Log {
        pub fn new() -> Log {
            Log {
                stored: Vec::new(),
                n: 0,
            }
        }
        pub fn add(&mut self, data: &[u8]) {
            let mut h = record_hash(data);
            self.stored.push(h);
            let mut level = 0;
            let mut n = self.n;
            while n & 1 == 1 {
                let left = self.stored[stored_hash_index(level, n - 1) as usize];
                h = node_hash(&left, &h);
                self.stored.push(h);
                level += 1;
                n >>= 1;
            }
            self.n += 1;
        }
        pub fn hash(&self) -> Hash {
            tree_hash(self.n, |i| self.stored[i as usize])
        }
        /// A tile's bytes as a server cuts it.
        pub fn tile(&self, t: &Tile) -> Vec<u8> {
            let mut out = Vec::new();
            for i in 0..t.w {
                let x = stored_hash_index(t.l * t.h, (t.n << t.h) + i);
                out.extend_from_slice(&self.stored[x as usize]);
            }
            out
        }
    }

    #[test]
    fn index_arithmetic_round_trips() {
        for level in 0..5 {
            for n in 0..200 {
                let x = stored_hash_index(level, n);
                assert_eq!(split_stored_hash_index(x), (level, n));
            }
        }
        assert_eq!(stored_hash_index(0, 0), 0);
        assert_eq!(stored_hash_index(0, 1), 1);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(0, 2), 3);
    }

    #[test]
    fn tile_paths() {
        let t = Tile {
            h: 8,
            l: 0,
            n: 1_234_067,
            w: 256,
        };
        assert_eq!(t.path(), "8/0/x001/x234/067");
        assert_eq!(Tile::parse("8/0/x001/x234/067"), Some(t));
        let p = Tile { w: 5, n: 2, ..t };
        assert_eq!(p.path(), "8/0/002.p/5");
        assert_eq!(Tile::parse("8/0/002.p/5"), Some(p));
        for bad in [
            "8/0/2",
            "8/0/002.p/256",
            "8/0/002.p/0",
            "8/0/x002",
            "8/0/001/002",
            "8/0/../x",
        ] {
            assert_eq!(Tile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn planned_tiles_prove_records_and_growth() {
        let mut log = Log::new();
        let mut sizes = Vec::new();
        for i in 0..700 {
            log.add(format!("record {i}\n").as_bytes());
            sizes.push((log.n, log.hash()));
        }
        let (n, th) = (log.n, log.hash());
        for ids in [vec![0i64], vec![5, 255, 256, 699], vec![511, 512, 600]] {
            let idx: Vec<i64> = ids.iter().map(|&i| stored_hash_index(0, i)).collect();
            let tiles = plan(n, &idx).unwrap();
            let data: Vec<Vec<u8>> = tiles.iter().map(|t| log.tile(t)).collect();
            let got = read_hashes(n, &th, &idx, &tiles, &data).unwrap();
            for (i, id) in ids.iter().enumerate() {
                assert_eq!(got[i], record_hash(format!("record {id}\n").as_bytes()));
            }
            let mut bad = data.clone();
            let last = bad.len() - 1;
            bad[last][0] ^= 1;
            assert!(read_hashes(n, &th, &idx, &tiles, &bad).is_err());
        }
        for &(m, hm) in [sizes[0], sizes[254], sizes[255], sizes[300], sizes[698]].iter() {
            let idx = tree_proof_indexes(n, m);
            let tiles = plan(n, &idx).unwrap();
            let data: Vec<Vec<u8>> = tiles.iter().map(|t| log.tile(t)).collect();
            let proof = read_hashes(n, &th, &idx, &tiles, &data).unwrap();
            assert!(check_tree(&proof, n, &th, m, &hm), "m={m}");
            assert!(!check_tree(&proof, n, &th, m, &sizes[0].1) || m == 1);
        }
    }
}
