//! The common model: Codat's data types as Ledgerline serves them, whatever the upstream.
//!
//! Providers map their records into these types; the API serves them unchanged. Field names,
//! required fields and closed enums follow Codat's accounting SDK (`../shared/CODAT.md` §4), so
//! Codat's official SDKs read our responses as their own. Money is `Decimal`, never a float: it
//! is written as a JSON number (Codat's wire format) only at the edge.

pub mod dataset;
pub mod invoice;
pub mod refs;

pub use dataset::{DATASETS, DataType, DatasetSpec};
pub use invoice::{Invoice, InvoiceLineItem, InvoiceStatus};
pub use refs::{AccountRef, CustomerRef, ItemRef, Metadata, TaxRateRef, TrackingCategoryRef};

/// A business date or time as Codat writes one that the source gives without a zone:
/// `YYYY-MM-DDTHH:MM:SS`, local to the business.
pub fn local_datetime(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}
