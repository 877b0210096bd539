//! Compact rows: a row's field names live once per table layout, its values as a few tagged bytes.
//!
//! A generated invoice makes ~20 rows of 15–40 fields each; as `serde_json::Map`s they cost ~70 KB an
//! invoice. Here a row is a shared `Layout` (its field names in `Map` order, i.e. sorted) plus one byte
//! buffer: GUID strings as 16 bytes, `/Date(ms)/` strings and integers as varints, amounts that are whole
//! cents as a varint of cents, longer strings as an id in the division's string pool (names,
//! descriptions, codes repeat across thousands of rows). Every encoding is checked to give back the
//! identical `Value` (and so the identical JSON), or the value is stored as it is.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::sync::Arc;

use parking_lot::{RwLock, RwLockReadGuard};
use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Number, Value};
use uuid::Uuid;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const UINT: u8 = 4;
const CENTS: u8 = 5;
const FLOAT: u8 = 6;
const GUID: u8 = 7;
const DATE: u8 = 8;
const INLINE: u8 = 9;
const POOLED: u8 = 10;
const JSON: u8 = 11;

/// Strings up to this many bytes are stored in the row; longer ones go to the pool.
const INLINE_MAX: usize = 4;
/// A table keeps at most this many distinct layouts for reuse (rows beyond get their own).
const MAX_LAYOUTS: usize = 64;

/// A division's interned strings, shared by its tables' layouts. Append-only.
#[derive(Default)]
pub(crate) struct Pool {
    inner: RwLock<PoolInner>,
}

#[derive(Default)]
struct PoolInner {
    ids: HashMap<Arc<str>, u32>,
    strs: Vec<Arc<str>>,
}

impl Pool {
    /// The string's id, adding it if new; `None` when the pool is full (store it inline then).
    fn intern(&self, s: &str) -> Option<u32> {
        {
            let r = self.inner.read();
            if let Some(&id) = r.ids.get(s) {
                return Some(id);
            }
        }
        let mut w = self.inner.write();
        if let Some(&id) = w.ids.get(s) {
            return Some(id);
        }
        let id = u32::try_from(w.strs.len()).ok()?;
        let a: Arc<str> = Arc::from(s);
        w.strs.push(a.clone());
        w.ids.insert(a, id);
        Some(id)
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pool({} strings)", self.inner.read().strs.len())
    }
}

/// The field names of rows (in `Map` order) and the pool their pooled strings are in.
#[derive(Debug)]
pub(crate) struct Layout {
    names: Box<[Box<str>]>,
    pool: Option<Arc<Pool>>,
}

impl Layout {
    fn matches(&self, map: &Map<String, Value>) -> bool {
        self.names.len() == map.len() && self.names.iter().zip(map.keys()).all(|(a, b)| **a == **b)
    }

    fn of(map: &Map<String, Value>, pool: Option<Arc<Pool>>) -> Layout {
        Layout {
            names: map.keys().map(|k| k.as_str().into()).collect(),
            pool,
        }
    }
}

/// Encodes rows of one table: reuses layouts and interns strings in the division's pool.
#[derive(Clone, Debug)]
pub(crate) struct Encoder {
    pool: Arc<Pool>,
    layouts: Vec<Arc<Layout>>,
}

impl Encoder {
    /// An encoder writing pooled strings to `pool`.
    pub fn new(pool: Arc<Pool>) -> Encoder {
        Encoder {
            pool,
            layouts: Vec::new(),
        }
    }

    /// The compact form of a row.
    pub fn encode(&mut self, map: &Map<String, Value>) -> Fields {
        let layout = match self.layouts.iter().find(|l| l.matches(map)) {
            Some(l) => l.clone(),
            None => {
                let l = Arc::new(Layout::of(map, Some(self.pool.clone())));
                if self.layouts.len() < MAX_LAYOUTS {
                    self.layouts.push(l.clone());
                }
                l
            }
        };
        let data = encode_values(map.values(), Some(&self.pool));
        Fields::new(layout, data)
    }
}

/// A row's fields in compact form. Read them with `value`/`to_map` (no copy kept). Tests may also
/// use `get` and indexing, which build the row's `Map` once and keep it: those exist only in test
/// builds, so serving never pays for a second copy of a row.
pub struct Fields {
    layout: Arc<Layout>,
    data: Box<[u8]>,
    #[cfg(test)]
    map: std::sync::OnceLock<Box<Map<String, Value>>>,
}

impl Fields {
    fn new(layout: Arc<Layout>, data: Vec<u8>) -> Fields {
        Fields {
            layout,
            data: data.into_boxed_slice(),
            #[cfg(test)]
            map: std::sync::OnceLock::new(),
        }
    }

    /// A standalone row (no pool): for rows built per request.
    pub fn from_map(map: &Map<String, Value>) -> Fields {
        Fields::new(
            Arc::new(Layout::of(map, None)),
            encode_values(map.values(), None),
        )
    }

    /// The field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.layout.names.iter().map(|n| &**n)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.layout.names.len()
    }

    /// True when the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.layout.names.is_empty()
    }

    /// Whether the row has this field.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.layout.names.iter().position(|n| **n == *name)
    }

    /// One field's value, built on the spot.
    pub fn value(&self, name: &str) -> Option<Value> {
        let at = self.position(name)?;
        let r = self.reader();
        r.cells().nth(at).map(|(_, c)| c.to_value())
    }

    /// Every field as a `Map`, built on the spot.
    pub fn to_map(&self) -> Map<String, Value> {
        self.reader()
            .cells()
            .map(|(k, c)| (k.to_owned(), c.to_value()))
            .collect()
    }

    /// One field, from the row's `Map` (built on first use and kept; tests only).
    #[cfg(test)]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map().get(name)
    }

    #[cfg(test)]
    fn map(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| Box::new(self.to_map()))
    }

    /// A reader holding the pool for the duration of a serialisation.
    pub(crate) fn reader(&self) -> Reader<'_> {
        Reader {
            names: &self.layout.names,
            data: &self.data,
            pool: self.layout.pool.as_ref().map(|p| p.inner.read()),
        }
    }

    /// Bytes this row holds beyond the struct itself (data; the shared layout is not counted).
    pub fn heap_bytes(&self) -> usize {
        self.data.len()
    }
}

#[cfg(test)]
impl std::ops::Index<&str> for Fields {
    type Output = Value;

    /// Panics when the field is missing, like `Map`'s index.
    fn index(&self, name: &str) -> &Value {
        &self.map()[name]
    }
}

impl Clone for Fields {
    fn clone(&self) -> Fields {
        Fields {
            layout: self.layout.clone(),
            data: self.data.clone(),
            #[cfg(test)]
            map: std::sync::OnceLock::new(),
        }
    }
}

impl PartialEq for Fields {
    fn eq(&self, other: &Fields) -> bool {
        let same_names =
            Arc::ptr_eq(&self.layout, &other.layout) || self.layout.names == other.layout.names;
        if !same_names {
            return false;
        }
        let same_pool = match (&self.layout.pool, &other.layout.pool) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        // Within one pool the encoding is canonical; across pools compare the values.
        if same_pool {
            return self.data == other.data;
        }
        let (a, b) = (self.reader(), other.reader());
        a.cells()
            .zip(b.cells())
            .all(|((_, x), (_, y))| x.to_value() == y.to_value())
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_map().fmt(f)
    }
}

/// Decodes a row's cells; holds the pool's read lock while alive.
pub(crate) struct Reader<'a> {
    names: &'a [Box<str>],
    data: &'a [u8],
    pool: Option<RwLockReadGuard<'a, PoolInner>>,
}

impl Reader<'_> {
    /// (name, value) of every field, in order.
    pub fn cells(&self) -> impl Iterator<Item = (&str, Cell<'_>)> {
        let mut cur = Cursor {
            data: self.data,
            pos: 0,
            pool: self.pool.as_deref(),
        };
        self.names.iter().map(move |n| (&**n, cur.next_cell()))
    }
}

/// One decoded value, borrowing strings from the row or the pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Guid(Uuid),
    Date(i64),
    Str(&'a str),
    Json(&'a str),
}

impl Cell<'_> {
    /// The `Value` the cell was encoded from.
    pub fn to_value(self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Bool(b) => Value::Bool(b),
            Cell::Int(i) => Value::from(i),
            Cell::UInt(u) => Value::from(u),
            Cell::Float(x) => Number::from_f64(x).map_or(Value::Null, Value::Number),
            Cell::Guid(u) => Value::String(u.to_string()),
            Cell::Date(ms) => Value::String(format!("/Date({ms})/")),
            Cell::Str(s) => Value::String(s.to_owned()),
            Cell::Json(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        }
    }
}

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Cell::Null => s.serialize_unit(),
            Cell::Bool(b) => s.serialize_bool(b),
            Cell::Int(i) => s.serialize_i64(i),
            Cell::UInt(u) => s.serialize_u64(u),
            // What `Value::Number` does for a float, so the text is the same.
            Cell::Float(x) => s.serialize_f64(x),
            Cell::Guid(u) => {
                let mut buf = Uuid::encode_buffer();
                s.serialize_str(u.hyphenated().encode_lower(&mut buf))
            }
            Cell::Date(ms) => {
                let mut buf = [0u8; 40];
                let mut w = &mut buf[..];
                // 29 bytes at most ("/Date(-9223372036854775808)/"), so this cannot fail.
                let _ = write!(w, "/Date({ms})/");
                let len = 40 - w.len();
                s.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default())
            }
            Cell::Str(t) => s.serialize_str(t),
            Cell::Json(t) => serde_json::from_str::<Value>(t)
                .unwrap_or(Value::Null)
                .serialize(s),
        }
    }
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    pool: Option<&'a PoolInner>,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(NULL);
        self.pos += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 || shift >= 63 {
                return v;
            }
            shift += 7;
        }
    }

    fn zigzag(&mut self) -> i64 {
        let v = self.varint();
        ((v >> 1) as i64) ^ -((v & 1) as i64)
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let end = (self.pos + n).min(self.data.len());
        let b = &self.data[self.pos.min(end)..end];
        self.pos += n;
        b
    }

    fn text(&mut self) -> &'a str {
        let n = self.varint() as usize;
        std::str::from_utf8(self.bytes(n)).unwrap_or_default()
    }

    fn next_cell(&mut self) -> Cell<'a> {
        match self.byte() {
            FALSE => Cell::Bool(false),
            TRUE => Cell::Bool(true),
            INT => Cell::Int(self.zigzag()),
            UINT => Cell::UInt(self.varint()),
            CENTS => Cell::Float(self.zigzag() as f64 / 100.0),
            FLOAT => {
                let mut b = [0u8; 8];
                b.copy_from_slice(self.bytes(8));
                Cell::Float(f64::from_le_bytes(b))
            }
            GUID => {
                let mut b = [0u8; 16];
                b.copy_from_slice(self.bytes(16));
                Cell::Guid(Uuid::from_bytes(b))
            }
            DATE => Cell::Date(self.zigzag()),
            INLINE => Cell::Str(self.text()),
            POOLED => {
                let id = self.varint() as usize;
                let s = self.pool.and_then(|p| p.strs.get(id)).map_or("", |s| &**s);
                Cell::Str(s)
            }
            JSON => Cell::Json(self.text()),
            _ => Cell::Null,
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_zigzag(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_text(out: &mut Vec<u8>, tag: u8, s: &str) {
    out.push(tag);
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn encode_values<'v>(values: impl Iterator<Item = &'v Value>, pool: Option<&Pool>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for v in values {
        encode_value(&mut out, v, pool);
    }
    out
}

fn encode_value(out: &mut Vec<u8>, v: &Value, pool: Option<&Pool>) {
    match v {
        Value::Null => out.push(NULL),
        Value::Bool(b) => out.push(if *b { TRUE } else { FALSE }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push(INT);
                put_zigzag(out, i);
            } else if let Some(u) = n.as_u64() {
                out.push(UINT);
                put_varint(out, u);
            } else {
                let x = n.as_f64().unwrap_or_default();
                let c = (x * 100.0).round();
                // Decoded as `c as f64 / 100.0`: only when that gives back the very same bits
                // (not for -0.0, not for values that are not whole cents).
                let c = (c.abs() < 9.0e15).then_some(c as i64);
                if let Some(c) = c.filter(|c| (*c as f64 / 100.0).to_bits() == x.to_bits()) {
                    out.push(CENTS);
                    put_zigzag(out, c);
                } else {
                    out.push(FLOAT);
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        Value::String(s) => encode_str(out, s, pool),
        other => put_text(out, JSON, &other.to_string()),
    }
}

fn encode_str(out: &mut Vec<u8>, s: &str, pool: Option<&Pool>) {
    if s.len() == 36
        && let Ok(u) = Uuid::try_parse(s)
        && u.hyphenated().encode_lower(&mut Uuid::encode_buffer()) == s
    {
        out.push(GUID);
        out.extend_from_slice(u.as_bytes());
        return;
    }
    if let Some(ms) = s
        .strip_prefix("/Date(")
        .and_then(|r| r.strip_suffix(")/"))
        .and_then(|m| m.parse::<i64>().ok())
        && format!("/Date({ms})/") == s
    {
        out.push(DATE);
        put_zigzag(out, ms);
        return;
    }
    if s.len() > INLINE_MAX
        && let Some(id) = pool.and_then(|p| p.intern(s))
    {
        out.push(POOLED);
        put_varint(out, u64::from(id));
        return;
    }
    put_text(out, INLINE, s);
}

/// A row as the filter sees it: a field's value by name.
pub trait FieldSource {
    /// The field's value, or `None` when the row lacks it.
    fn field(&self, name: &str) -> Option<Cow<'_, Value>>;
}

impl FieldSource for Fields {
    fn field(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.value(name).map(Cow::Owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(v: Value) {
        let map = match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let mut enc = Encoder::new(Arc::new(Pool::default()));
        for f in [enc.encode(&map), Fields::from_map(&map)] {
            assert_eq!(f.to_map(), map);
            let text: String = {
                let r = f.reader();
                let cells: Map<String, Value> = r
                    .cells()
                    .map(|(k, c)| (k.to_owned(), serde_json::to_value(c).unwrap_or_default()))
                    .collect();
                serde_json::to_string(&cells).unwrap_or_default()
            };
            assert_eq!(text, serde_json::to_string(&map).unwrap_or_default());
            for (k, v) in &map {
                assert_eq!(f.value(k).as_ref(), Some(v));
                assert_eq!(&f[k.as_str()], v);
            }
        }
    }

    #[test]
    fn every_value_comes_back_identical() {
        roundtrip(json!({
            "ID": "7b28a6c4-0f55-4b8c-9c52-11e0c3f1d0aa",
            "Upper": "7B28A6C4-0F55-4B8C-9C52-11E0C3F1D0AA",
            "Simple": "7b28a6c40f554b8c9c5211e0c3f1d0aa",
            "Date": "/Date(1725840000000)/",
            "Neg": "/Date(-86400000)/",
            "Odd": "/Date(+5)/",
            "Zero": "/Date(-0)/",
            "Amounts": [12.34, -0.0, 0.1, 1e300],
            "A": 12.34, "B": -7.5, "C": 0.0, "D": -0.0, "E": 0.21, "F": 1.0 / 3.0, "G": 5.0,
            "H": 1e20, "I": 123456789.01, "J": f64::MIN_POSITIVE,
            "Int": -12, "Pos": 42, "Big": u64::MAX, "Min": i64::MIN,
            "T": true, "N": null, "Obj": {"x": 1},
            "Short": "C", "Empty": "", "Long": "Ledgerline Demo B.V.", "Uni": "Café ünïcode",
        }));
    }

    #[test]
    fn equality_is_by_value_across_pools() {
        let m = |name: &str| match json!({"Name": name, "N": 1}) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let (mut a, mut b) = (
            Encoder::new(Arc::new(Pool::default())),
            Encoder::new(Arc::new(Pool::default())),
        );
        b.encode(&m("something else"));
        assert_eq!(a.encode(&m("a long name")), b.encode(&m("a long name")));
        assert_ne!(a.encode(&m("a long name")), b.encode(&m("something else")));
        assert_eq!(
            a.encode(&m("a long name")),
            Fields::from_map(&m("a long name"))
        );
    }
}
