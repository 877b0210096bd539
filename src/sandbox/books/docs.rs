//! Source documents (sales invoices, purchase entries, journal entries) and their amount arithmetic.
//!
//! Every row of a document — header, lines and everything derived — is recomputed from these structs,
//! so amounts are held in integer cents and sums are exact.

use chrono::{NaiveDate, NaiveDateTime};
use uuid::Uuid;

use super::wire::round_cents;

/// A payment against a sales invoice or purchase entry, booked as a bank entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Payment {
    pub entry_id: Uuid,
    pub entry_number: i32,
    pub date: NaiveDate,
    /// Document currency, same sign as the document total.
    pub amount_fc: i64,
}

/// A sales invoice line as entered.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SalesLine {
    pub id: Uuid,
    pub item_code: String,
    pub description: String,
    /// Negative on credit notes.
    pub quantity: f64,
    /// Cents, document currency.
    pub unit_price: i64,
    /// Fraction, 0.1 = 10 %.
    pub discount: f64,
    /// Padded VAT code.
    pub vat: String,
    pub vat_pct: f64,
    pub gl: Uuid,
}

/// Computed amounts of one line (cents).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Amounts {
    pub excl_fc: i64,
    pub vat_fc: i64,
    pub excl_dc: i64,
    pub vat_dc: i64,
}

impl Amounts {
    /// Line amounts from an FC amount excl. VAT, a VAT fraction and the FC→DC rate.
    pub fn of(excl_fc: i64, vat_pct: f64, rate: f64) -> Amounts {
        let vat_fc = round_cents(excl_fc as f64 * vat_pct);
        Amounts {
            excl_fc,
            vat_fc,
            excl_dc: round_cents(excl_fc as f64 * rate),
            vat_dc: round_cents(vat_fc as f64 * rate),
        }
    }

    /// Sum of two.
    pub fn add(self, o: Amounts) -> Amounts {
        Amounts {
            excl_fc: self.excl_fc + o.excl_fc,
            vat_fc: self.vat_fc + o.vat_fc,
            excl_dc: self.excl_dc + o.excl_dc,
            vat_dc: self.vat_dc + o.vat_dc,
        }
    }

    /// Incl. VAT, FC.
    pub fn incl_fc(self) -> i64 {
        self.excl_fc + self.vat_fc
    }

    /// Incl. VAT, DC.
    pub fn incl_dc(self) -> i64 {
        self.excl_dc + self.vat_dc
    }
}

impl SalesLine {
    /// Net unit price after discount, in cents.
    pub fn net_price(&self) -> i64 {
        round_cents(self.unit_price as f64 * (1.0 - self.discount))
    }

    /// The line's amounts.
    pub fn amounts(&self, rate: f64) -> Amounts {
        Amounts::of(
            round_cents(self.quantity * self.net_price() as f64),
            self.vat_pct,
            rate,
        )
    }
}

/// Header fields shared by sales invoices and purchase entries.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Header {
    pub id: Uuid,
    /// InvoiceNumber (sales) or EntryNumber (purchases).
    pub number: i32,
    /// Customer or supplier account.
    pub account: Uuid,
    pub date: NaiveDate,
    pub due: NaiveDate,
    pub currency: String,
    /// FC → DC: AmountDC = AmountFC × rate.
    pub rate: f64,
    pub status: i32,
    pub kind: i32,
    pub description: String,
    pub your_ref: String,
    pub payment_condition: String,
    /// HID of the outstanding-item row.
    pub hid: i64,
    pub created: NaiveDateTime,
    pub modified: NaiveDateTime,
    pub payments: Vec<Payment>,
}

impl Header {
    /// Sum paid so far (FC).
    pub fn paid_fc(&self) -> i64 {
        self.payments.iter().map(|p| p.amount_fc).sum()
    }
}

/// A sales invoice.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SalesDoc {
    pub head: Header,
    pub lines: Vec<SalesLine>,
}

impl SalesDoc {
    /// Header totals: the exact sum of the line amounts.
    pub fn totals(&self) -> Amounts {
        self.lines.iter().fold(Amounts::default(), |acc, l| {
            acc.add(l.amounts(self.head.rate))
        })
    }

    /// Processed invoices are booked: they have an entry, transaction lines and an open item.
    pub fn is_booked(&self) -> bool {
        self.head.status == 50
    }

    /// Credit notes (8021, 8024).
    pub fn is_credit(&self) -> bool {
        matches!(self.head.kind, 8021 | 8024)
    }
}

/// A purchase entry line: an amount excl. VAT on a cost account.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PurchaseLine {
    pub id: Uuid,
    pub description: String,
    pub gl: Uuid,
    /// Cents excl. VAT, document currency; negative on credit notes.
    pub amount_fc: i64,
    pub quantity: f64,
    pub vat: String,
    pub vat_pct: f64,
}

/// A purchase entry (bill).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PurchaseDoc {
    pub head: Header,
    pub lines: Vec<PurchaseLine>,
}

impl PurchaseDoc {
    /// Header totals: the exact sum of the line amounts.
    pub fn totals(&self) -> Amounts {
        self.lines.iter().fold(Amounts::default(), |acc, l| {
            acc.add(Amounts::of(l.amount_fc, l.vat_pct, self.head.rate))
        })
    }
}

/// A general journal entry line; debit positive, credit negative.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JournalLine {
    pub id: Uuid,
    pub gl: Uuid,
    pub account: Option<Uuid>,
    pub amount: i64,
    pub description: String,
}

/// A general journal entry, always in the division currency; its lines sum to zero.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JournalDoc {
    pub id: Uuid,
    pub number: i32,
    pub date: NaiveDate,
    pub status: i32,
    /// 10 opening balance, 90 other.
    pub kind: i32,
    pub description: String,
    pub created: NaiveDateTime,
    pub modified: NaiveDateTime,
    pub lines: Vec<JournalLine>,
}
