//! GL account balances: Σ `AmountDC` of the account's lines in `sync/Financial/TransactionLines`,
//! every year, which is what Exact's `financial/ReportingBalance` sums (its groups are the same
//! lines by year, period, type and status). Reading the lines costs one call per 1,000 lines
//! (ReportingBalance pages at 60 groups), and a run that reads the general ledger in full for
//! bills or journal entries has them already.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::super::row::de;
use super::super::transaction_lines::TransactionLineRow;
use super::ReportingBalanceRow;

/// A transaction line read for its amount only (`$select=Timestamp,ID,GLAccount,AmountDC`): the
/// ID and Timestamp keep a line changed while the read paged through from counting twice.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct LineAmountRow {
    #[serde(deserialize_with = "de::int64")]
    pub timestamp: Option<i64>,
    #[serde(rename = "ID", deserialize_with = "de::text")]
    pub id: Option<String>,
    #[serde(rename = "GLAccount", deserialize_with = "de::text")]
    pub gl_account: Option<String>,
    #[serde(rename = "AmountDC", deserialize_with = "de::decimal")]
    pub amount_dc: Option<Decimal>,
}

/// A transaction line read only to learn that lines changed (`$select=Timestamp`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct LineStampRow {
    #[serde(deserialize_with = "de::int64")]
    pub timestamp: Option<i64>,
}

/// What a balance needs of a transaction line, whichever read it came from.
pub trait LineAmount {
    fn line_id(&self) -> Option<&str>;
    fn timestamp(&self) -> Option<i64>;
    fn gl_account(&self) -> Option<&str>;
    fn amount_dc(&self) -> Option<Decimal>;
}

impl LineAmount for LineAmountRow {
    fn line_id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn gl_account(&self) -> Option<&str> {
        self.gl_account.as_deref()
    }
    fn amount_dc(&self) -> Option<Decimal> {
        self.amount_dc
    }
}

impl LineAmount for TransactionLineRow {
    fn line_id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }
    fn gl_account(&self) -> Option<&str> {
        self.gl_account.as_deref()
    }
    fn amount_dc(&self) -> Option<Decimal> {
        self.amount_dc
    }
}

/// The balance per GL account (lower-case GUID: Exact writes GUIDs in either case) of every
/// account with lines, in the order a sync read gives them (Timestamp order). A line read twice
/// (changed while the read paged) counts once, as its later version; a line without an ID counts
/// as read.
pub fn from_lines<'r, L: LineAmount + 'r>(
    lines: impl IntoIterator<Item = &'r L>,
) -> HashMap<String, Decimal> {
    let mut sums = LineSums::default();
    for line in lines {
        sums.add(line);
    }
    sums.balances()
}

/// Balances summed while the lines of a sync read stream past, page by page (a full read of
/// 100,000 invoices' ledger is some 600,000 lines: too many to hold). What it keeps per line is
/// its account (an index) and amount under a 64-bit hash of its ID, about 40 bytes, so that a
/// line that comes again later (changed while the read paged through: the read is in Timestamp
/// order, so the later one is the newer) replaces its first version instead of adding to it.
#[derive(Debug, Default)]
pub struct LineSums {
    /// Account (lower-case GUID) → index into `sums`.
    accounts: HashMap<String, u32>,
    sums: Vec<(String, Decimal)>,
    lines: HashMap<u64, (u32, Decimal)>,
}

impl LineSums {
    /// Adds a line, after every line read before it.
    pub fn add<L: LineAmount>(&mut self, line: &L) {
        let key = line.line_id().map(|id| {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(id, &mut hasher);
            std::hash::Hasher::finish(&hasher)
        });
        if let Some((account, amount)) = key.and_then(|k| self.lines.remove(&k)) {
            self.sums[account as usize].1 -= amount;
        }
        let (Some(gl), Some(amount)) = (line.gl_account(), line.amount_dc()) else {
            return;
        };
        let gl = gl.to_ascii_lowercase();
        let account = match self.accounts.get(&gl) {
            Some(index) => *index,
            None => {
                let index = self.sums.len() as u32;
                self.accounts.insert(gl.clone(), index);
                self.sums.push((gl, Decimal::ZERO));
                index
            }
        };
        self.sums[account as usize].1 += amount;
        if let Some(key) = key {
            self.lines.insert(key, (account, amount));
        }
    }

    /// The balance of every account a line named.
    pub fn balances(self) -> HashMap<String, Decimal> {
        self.sums.into_iter().collect()
    }
}

/// The balance of every GL account that has transactions, summed over ReportingBalance rows.
pub fn from_reporting(rows: &[ReportingBalanceRow]) -> HashMap<String, Decimal> {
    let mut balances: HashMap<String, Decimal> = HashMap::new();
    for row in rows {
        if let (Some(gl), Some(amount)) = (&row.gl_account, row.amount) {
            *balances.entry(gl.to_ascii_lowercase()).or_default() += amount;
        }
    }
    balances
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde_json::json;

    use super::*;
    use crate::provider::exact::row;

    const BANK: &str = "3f5d0a4e-6b1c-4a8e-9d2f-1c0b7e6a5d41";
    const SALES: &str = "8a2b6c1d-0e3f-4a5b-8c7d-9e0f1a2b3c4d";

    fn line(id: &str, timestamp: i64, gl: &str, amount: f64) -> LineAmountRow {
        row::parse(json!({"Timestamp": timestamp, "ID": id, "GLAccount": gl, "AmountDC": amount}))
            .unwrap()
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn the_select_is_the_four_fields_a_balance_needs() {
        assert_eq!(
            row::select::<LineAmountRow>(),
            "Timestamp,ID,GLAccount,AmountDC"
        );
        assert_eq!(row::select::<LineStampRow>(), "Timestamp");
    }

    #[test]
    fn each_account_sums_its_lines_and_a_line_read_twice_counts_as_its_newest_version() {
        let lines = [
            line("a", 1, BANK, 121.0),
            line("b", 2, SALES, -100.0),
            line("c", 3, &SALES.to_uppercase(), -21.0),
            line("d", 4, BANK, -0.5),
            // Line b changed while the read paged through: it comes again, later.
            line("b", 9, SALES, -90.5),
            // Line a moved to another account, then lost its amount.
            line("a", 10, SALES, 121.0),
            line("a", 11, SALES, 0.0),
        ];
        let balances = from_lines(&lines);
        assert_eq!(balances[BANK], dec("-0.5"));
        assert_eq!(balances[SALES], dec("-111.5"));
        assert_eq!(balances.len(), 2);
    }
}
