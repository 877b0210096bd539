//! Row sources for the OData engine and the serialisation of one row in Exact's JSON
//! (`__metadata`, `$select` order, `Timestamp` on sync endpoints, deferred line collections).

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::super::books::{Cell, DeletedRecord, Key, Record, Table};
use super::super::documented::DocumentedField;

/// Where a listing reads its rows.
#[derive(Debug)]
pub enum Rows<'a> {
    /// A books table.
    Table(&'a Table),
    /// A division's deleted log (ascending Timestamp).
    Deleted(&'a [DeletedRecord], i32),
    /// Rows built for the request (e.g. `system/Divisions`), in key order.
    Owned(Vec<Record>),
}

/// An iterator over rows (borrowed from `'s` or built on the fly) that lives for `'k`.
pub type RowIter<'s, 'k> = Box<dyn Iterator<Item = Cow<'s, Record>> + 'k>;

impl<'s> Rows<'s> {
    /// Rows in key order strictly after `after`.
    pub fn by_key<'r: 'k, 'k>(&'r self, after: Option<&'k Key>) -> RowIter<'r, 'k> {
        match self {
            Rows::Table(t) => Box::new(t.iter_by_key(after).map(Cow::Borrowed)),
            Rows::Owned(v) => Box::new(
                v.iter()
                    .filter(move |r| after.is_none_or(|a| &r.key > a))
                    .map(Cow::Borrowed),
            ),
            Rows::Deleted(d, div) => {
                let mut rows: Vec<Record> = d.iter().map(|r| deleted_row(r, *div)).collect();
                rows.sort_by(|a, b| a.key.cmp(&b.key));
                Box::new(
                    rows.into_iter()
                        .filter(move |r| after.is_none_or(|a| &r.key > a))
                        .map(Cow::Owned),
                )
            }
        }
    }

    /// Rows in Timestamp order with Timestamp strictly greater than `after`.
    pub fn by_timestamp<'r>(&'r self, after: i64) -> RowIter<'r, 'r> {
        match self {
            Rows::Table(t) => Box::new(t.iter_by_timestamp(after).map(Cow::Borrowed)),
            Rows::Deleted(d, div) => {
                let start = d.partition_point(|r| r.timestamp <= after);
                Box::new(
                    d[start..]
                        .iter()
                        .map(move |r| Cow::Owned(deleted_row(r, *div))),
                )
            }
            Rows::Owned(v) => {
                let mut rows: Vec<&Record> = v.iter().filter(|r| r.timestamp > after).collect();
                rows.sort_by_key(|r| r.timestamp);
                Box::new(rows.into_iter().map(Cow::Borrowed))
            }
        }
    }

    /// The field names of a typical row, to refuse `$select` of fields the entity lacks.
    pub fn sample_fields(&self) -> Option<Vec<String>> {
        let keys = |r: &Record| r.fields.names().map(str::to_owned).collect();
        match self {
            Rows::Table(t) => t.iter_by_key(None).next().map(keys),
            Rows::Owned(v) => v.first().map(keys),
            Rows::Deleted(d, div) => d.first().map(|r| keys(&deleted_row(r, *div))),
        }
    }
}

/// A `sync/Deleted` row (EXACT.md §5 fields).
fn deleted_row(d: &DeletedRecord, division: i32) -> Record {
    let mut f = Map::new();
    f.insert("ID".into(), Value::String(d.id.to_string()));
    f.insert("EntityKey".into(), Value::String(d.entity_key.to_string()));
    f.insert("EntityType".into(), Value::from(d.entity_type));
    f.insert(
        "DeletedBy".into(),
        Value::String(uuid::Uuid::nil().to_string()),
    );
    f.insert(
        "DeletedDate".into(),
        Value::String(format!("/Date({})/", d.deleted_date_ms)),
    );
    f.insert("Division".into(), Value::from(division));
    Record::from_map(Key::Guid(d.id), d.timestamp, &f)
}

/// How to render rows of one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct RowStyle<'a> {
    /// `{base}/api/v1/{division}/{path}` for `__metadata.uri`.
    pub entity_url: &'a str,
    /// Full OData type name.
    pub type_name: &'a str,
    /// `$select`, if any.
    pub select: Option<&'a [String]>,
    /// Add `Timestamp` and use it as the key in `__metadata.uri` (sync endpoints).
    pub sync: bool,
    /// Write Int64 `Timestamp` as a string (OData v2 verbose JSON) instead of a number.
    pub timestamp_as_string: bool,
    /// Deferred line collection name.
    pub lines: Option<&'a str>,
    /// Exact's documented properties of the endpoint: answered as `null` (a collection as a
    /// deferred link) when the books do not generate them.
    pub documented: &'a [DocumentedField],
    /// `$expand` of the line collection: its lines inline instead of a deferred link.
    pub expanded: Option<&'a Expanded<'a>>,
}

/// The lines of `$expand`, by their header's key, and how to render them.
#[derive(Debug)]
pub struct Expanded<'a> {
    /// Lines by header key (lower-case GUID text), in key order.
    pub by_header: std::collections::HashMap<String, Vec<&'a Record>>,
    /// How a line renders (its endpoint's URL and type; `select`: the `Lines/Field` parts of
    /// the `$select`).
    pub style: RowStyle<'a>,
}

/// `{"results":[…]}`: an expanded collection.
#[derive(serde::Serialize)]
struct Inline<'a> {
    results: Vec<RowView<'a>>,
}

/// One row ready to serialise without copying its fields.
#[derive(Debug)]
pub struct RowView<'a> {
    /// The row.
    pub record: Cow<'a, Record>,
    /// Rendering rules.
    pub style: RowStyle<'a>,
}

impl RowView<'_> {
    fn uri(&self) -> String {
        let key = if self.style.sync {
            format!("{}L", self.record.timestamp)
        } else {
            self.record.key.odata_literal()
        };
        format!("{}({key})", self.style.entity_url)
    }

    fn timestamp(&self) -> Value {
        if self.style.timestamp_as_string {
            Value::String(self.record.timestamp.to_string())
        } else {
            Value::from(self.record.timestamp)
        }
    }
}

#[derive(serde::Serialize)]
struct Meta<'a> {
    uri: &'a str,
    #[serde(rename = "type")]
    type_name: &'a str,
}

#[derive(serde::Serialize)]
struct Deferred<'a> {
    #[serde(rename = "__deferred")]
    deferred: DeferredUri<'a>,
}

#[derive(serde::Serialize)]
struct DeferredUri<'a> {
    uri: &'a str,
}

fn deferred(uri: &str) -> Deferred<'_> {
    Deferred {
        deferred: DeferredUri { uri },
    }
}

impl<'a> RowView<'a> {
    /// The row's lines inline, under `$expand`.
    fn inline_lines(&self) -> Option<Inline<'a>> {
        let expanded = self.style.expanded?;
        let key = match &self.record.key {
            Key::Guid(id) => id.to_string(),
            Key::Int(n) => n.to_string(),
        };
        let lines = expanded.by_header.get(&key).map_or(&[][..], Vec::as_slice);
        Some(Inline {
            results: lines
                .iter()
                .map(|line| RowView {
                    record: Cow::Borrowed(*line),
                    style: expanded.style,
                })
                .collect(),
        })
    }

    /// A documented navigation collection other than the endpoint's own line collection.
    fn is_collection(&self, name: &str) -> bool {
        self.style
            .documented
            .iter()
            .any(|f| f.collection && f.name == name)
    }
}

impl Serialize for RowView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let uri = self.uri();
        let lines_uri = self.style.lines.map(|l| format!("{uri}/{l}"));
        let collection_uri = |name: &str| format!("{uri}/{name}");
        let reader = self.record.fields.reader();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "__metadata",
            &Meta {
                uri: &uri,
                type_name: self.style.type_name,
            },
        )?;
        match self.style.select {
            Some(select) => {
                let cells: Vec<(&str, Cell<'_>)> = reader.cells().collect();
                for f in select {
                    if self.style.sync && f == "Timestamp" {
                        map.serialize_entry(f, &self.timestamp())?;
                    } else if let (Some(l), Some(u)) = (self.style.lines, &lines_uri)
                        && l == f
                    {
                        match self.inline_lines() {
                            Some(inline) => map.serialize_entry(f, &inline)?,
                            None => map.serialize_entry(f, &deferred(u))?,
                        }
                    } else if let Some(cell) = cells.iter().find(|(k, _)| k == f) {
                        map.serialize_entry(f, &cell.1)?;
                    } else if self.is_collection(f) {
                        map.serialize_entry(f, &deferred(&collection_uri(f)))?;
                    } else {
                        map.serialize_entry(f, &Cell::Null)?;
                    }
                }
            }
            None => {
                for (k, v) in reader.cells() {
                    if Some(k) != self.style.lines {
                        map.serialize_entry(k, &v)?;
                    }
                }
                if self.style.sync {
                    map.serialize_entry("Timestamp", &self.timestamp())?;
                }
                if let (Some(l), Some(u)) = (self.style.lines, &lines_uri) {
                    match self.inline_lines() {
                        Some(inline) => map.serialize_entry(l, &inline)?,
                        None => map.serialize_entry(l, &deferred(u))?,
                    }
                }
                // Every other documented property, as Exact lists them all without `$select`.
                let mut present: Vec<&str> = self.record.fields.names().collect();
                present.sort_unstable();
                for field in self.style.documented {
                    let answered = present.binary_search(&field.name).is_ok()
                        || Some(field.name) == self.style.lines
                        || (self.style.sync && field.name == "Timestamp");
                    if answered {
                        continue;
                    }
                    if field.collection {
                        map.serialize_entry(field.name, &deferred(&collection_uri(field.name)))?;
                    } else {
                        map.serialize_entry(field.name, &Cell::Null)?;
                    }
                }
            }
        }
        map.end()
    }
}
