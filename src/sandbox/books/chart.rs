//! The chart of accounts, VAT codes and journals of an NL or UK division.

use serde_json::{Value, json};
use uuid::Uuid;

use super::wire;
use crate::sandbox::region::Region;

/// What a GL account is used for by the generator (not an Exact field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Bank,
    Cash,
    Receivable,
    Payable,
    VatPayHigh,
    VatPayLow,
    VatClaim,
    RevenueHigh,
    RevenueLow,
    RevenueZero,
    CostOfSales,
    Expense,
    Wages,
    Depreciation,
    FixedAssets,
    AccumDepreciation,
    Capital,
    Retained,
    Loan,
    Interest,
    Other,
}

/// VAT rate class, so NL and UK codes map onto the same generator logic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rate {
    High,
    Low,
    Zero,
}

/// The codes of the accounts each chart has blocked (`IsBlocked`): no postings, kept for history.
const BLOCKED: &[(Region, &str)] = &[(Region::Nl, "4210"), (Region::Uk, "7301")];

/// (code, NL/UK description, Exact Type, BalanceSide, BalanceType, role)
type GlRow = (
    &'static str,
    &'static str,
    i32,
    &'static str,
    &'static str,
    Role,
);

const NL_GL: &[GlRow] = &[
    ("0100", "Inventaris", 30, "D", "B", Role::FixedAssets),
    (
        "0110",
        "Afschrijving inventaris",
        35,
        "C",
        "B",
        Role::AccumDepreciation,
    ),
    (
        "0500",
        "Geplaatst aandelenkapitaal",
        50,
        "C",
        "B",
        Role::Capital,
    ),
    ("0600", "Overige reserves", 52, "C", "B", Role::Retained),
    ("0700", "Langlopende lening", 55, "C", "B", Role::Loan),
    ("1000", "Kas", 10, "D", "B", Role::Cash),
    ("1100", "Bank", 12, "D", "B", Role::Bank),
    ("1300", "Debiteuren", 20, "D", "B", Role::Receivable),
    (
        "1500",
        "Te betalen btw hoog",
        24,
        "C",
        "B",
        Role::VatPayHigh,
    ),
    ("1510", "Te betalen btw laag", 24, "C", "B", Role::VatPayLow),
    ("1520", "Te vorderen btw", 24, "D", "B", Role::VatClaim),
    ("1600", "Crediteuren", 22, "C", "B", Role::Payable),
    (
        "1700",
        "Af te dragen loonheffing",
        100,
        "C",
        "B",
        Role::Other,
    ),
    (
        "1800",
        "Te betalen vennootschapsbelasting",
        29,
        "C",
        "B",
        Role::Other,
    ),
    ("3000", "Voorraad", 40, "D", "B", Role::Other),
    ("4000", "Lonen en salarissen", 125, "D", "W", Role::Wages),
    ("4100", "Huur bedrijfsruimte", 120, "D", "W", Role::Expense),
    ("4200", "Autokosten", 120, "D", "W", Role::Expense),
    ("4300", "Kantoorkosten", 121, "D", "W", Role::Expense),
    (
        "4400",
        "Reclame- en advertentiekosten",
        121,
        "D",
        "W",
        Role::Expense,
    ),
    ("4500", "Telefoon en internet", 121, "D", "W", Role::Expense),
    (
        "4600",
        "Afschrijvingskosten",
        122,
        "D",
        "W",
        Role::Depreciation,
    ),
    (
        "4700",
        "Accountants- en advieskosten",
        121,
        "D",
        "W",
        Role::Expense,
    ),
    (
        "4900",
        "Rentelasten en bankkosten",
        120,
        "D",
        "W",
        Role::Expense,
    ),
    (
        "7000",
        "Inkoopwaarde van de omzet",
        111,
        "D",
        "W",
        Role::CostOfSales,
    ),
    (
        "8000",
        "Omzet hoog tarief",
        110,
        "C",
        "W",
        Role::RevenueHigh,
    ),
    ("8010", "Omzet laag tarief", 110, "C", "W", Role::RevenueLow),
    (
        "8020",
        "Omzet 0% en export",
        110,
        "C",
        "W",
        Role::RevenueZero,
    ),
    ("8900", "Rentebaten", 160, "C", "W", Role::Interest),
    // The rest of Exact's GL account types, so the chart holds every one the connector maps;
    // nothing is booked on them by the generator (role Other).
    ("1200", "Creditcard", 14, "D", "B", Role::Other),
    ("1250", "Betaalprovider", 16, "D", "B", Role::Other),
    (
        "1310",
        "Vooruitontvangen van debiteuren",
        21,
        "C",
        "B",
        Role::Other,
    ),
    ("1710", "Te betalen nettolonen", 25, "C", "B", Role::Other),
    ("1400", "Vooruitbetaalde kosten", 26, "D", "B", Role::Other),
    ("1410", "Nog te betalen kosten", 27, "C", "B", Role::Other),
    ("0200", "Waarborgsommen", 32, "D", "B", Role::Other),
    (
        "0710",
        "Kortlopend deel langlopende lening",
        60,
        "C",
        "B",
        Role::Other,
    ),
    ("2000", "Vraagposten", 90, "D", "B", Role::Other),
    (
        "4800",
        "Research- en ontwikkelingskosten",
        123,
        "D",
        "W",
        Role::Other,
    ),
    ("4010", "Sociale lasten", 126, "D", "W", Role::Other),
    ("9100", "Buitengewone lasten", 130, "D", "W", Role::Other),
    ("9000", "Buitengewone baten", 140, "C", "W", Role::Other),
    ("9500", "Vennootschapsbelasting", 150, "D", "W", Role::Other),
    ("9900", "Resultaatverwerking", 300, "C", "W", Role::Other),
    (
        "9910",
        "Indirecte kostendoorbelasting",
        301,
        "D",
        "W",
        Role::Other,
    ),
    (
        "9920",
        "Directe kostendoorbelasting",
        302,
        "D",
        "W",
        Role::Other,
    ),
    // Blocked: kept for history, closed for new postings.
    ("4210", "Autokosten (oud)", 120, "D", "W", Role::Other),
];

const UK_GL: &[GlRow] = &[
    ("0030", "Office Equipment", 30, "D", "B", Role::FixedAssets),
    (
        "0031",
        "Office Equipment Depreciation",
        35,
        "C",
        "B",
        Role::AccumDepreciation,
    ),
    ("1001", "Stock", 40, "D", "B", Role::Other),
    ("1100", "Trade Debtors", 20, "D", "B", Role::Receivable),
    ("1200", "Bank Current Account", 12, "D", "B", Role::Bank),
    ("1230", "Petty Cash", 10, "D", "B", Role::Cash),
    ("2100", "Trade Creditors", 22, "C", "B", Role::Payable),
    ("2200", "VAT on Sales", 24, "C", "B", Role::VatPayHigh),
    ("2201", "VAT on Purchases", 24, "D", "B", Role::VatClaim),
    (
        "2210",
        "PAYE and National Insurance",
        100,
        "C",
        "B",
        Role::Other,
    ),
    ("2220", "Corporation Tax", 29, "C", "B", Role::Other),
    ("2300", "Bank Loan", 55, "C", "B", Role::Loan),
    ("3000", "Ordinary Shares", 50, "C", "B", Role::Capital),
    ("3200", "Retained Earnings", 52, "C", "B", Role::Retained),
    (
        "4000",
        "Sales - Standard Rate",
        110,
        "C",
        "W",
        Role::RevenueHigh,
    ),
    (
        "4001",
        "Sales - Reduced Rate",
        110,
        "C",
        "W",
        Role::RevenueLow,
    ),
    (
        "4002",
        "Sales - Zero Rated and Export",
        110,
        "C",
        "W",
        Role::RevenueZero,
    ),
    ("4900", "Interest Received", 160, "C", "W", Role::Interest),
    ("5000", "Cost of Sales", 111, "D", "W", Role::CostOfSales),
    ("6201", "Advertising", 121, "D", "W", Role::Expense),
    ("7000", "Gross Wages", 125, "D", "W", Role::Wages),
    ("7100", "Rent and Rates", 120, "D", "W", Role::Expense),
    ("7300", "Motor Expenses", 120, "D", "W", Role::Expense),
    ("7500", "Office Costs", 121, "D", "W", Role::Expense),
    (
        "7502",
        "Telephone and Internet",
        121,
        "D",
        "W",
        Role::Expense,
    ),
    ("7600", "Accountancy Fees", 121, "D", "W", Role::Expense),
    (
        "7900",
        "Bank Charges and Interest",
        120,
        "D",
        "W",
        Role::Expense,
    ),
    ("8000", "Depreciation", 122, "D", "W", Role::Depreciation),
    // The rest of Exact's GL account types (see NL_GL).
    ("1240", "Company Credit Card", 14, "D", "B", Role::Other),
    (
        "1250",
        "Payment Provider Clearing",
        16,
        "D",
        "B",
        Role::Other,
    ),
    ("1110", "Customer Prepayments", 21, "C", "B", Role::Other),
    ("2215", "Net Wages Payable", 25, "C", "B", Role::Other),
    ("1103", "Prepayments", 26, "D", "B", Role::Other),
    ("2109", "Accruals", 27, "C", "B", Role::Other),
    ("0050", "Rent Deposits", 32, "D", "B", Role::Other),
    (
        "2310",
        "Bank Loan - Current Portion",
        60,
        "C",
        "B",
        Role::Other,
    ),
    ("9998", "Suspense Account", 90, "D", "B", Role::Other),
    (
        "8200",
        "Research and Development",
        123,
        "D",
        "W",
        Role::Other,
    ),
    (
        "7006",
        "Employers National Insurance",
        126,
        "D",
        "W",
        Role::Other,
    ),
    ("8300", "Exceptional Costs", 130, "D", "W", Role::Other),
    ("4910", "Exceptional Income", 140, "C", "W", Role::Other),
    ("8400", "Corporation Tax Charge", 150, "D", "W", Role::Other),
    ("9900", "Year End Result", 300, "C", "W", Role::Other),
    (
        "9910",
        "Indirect Year End Costing",
        301,
        "D",
        "W",
        Role::Other,
    ),
    (
        "9920",
        "Direct Year End Costing",
        302,
        "D",
        "W",
        Role::Other,
    ),
    // Blocked: kept for history, closed for new postings.
    ("7301", "Motor Expenses (old)", 120, "D", "W", Role::Other),
];

/// (code, description, percentage, Exact Type, VATTransactionType, rate class)
type VatRow = (
    &'static str,
    &'static str,
    f64,
    &'static str,
    &'static str,
    Rate,
);

const NL_VAT: &[VatRow] = &[
    ("VH", "BTW verkopen hoog 21%", 0.21, "E", "S", Rate::High),
    ("VL", "BTW verkopen laag 9%", 0.09, "E", "S", Rate::Low),
    ("V0", "BTW verkopen 0% / export", 0.0, "B", "S", Rate::Zero),
    ("IH", "BTW inkopen hoog 21%", 0.21, "E", "P", Rate::High),
    ("IL", "BTW inkopen laag 9%", 0.09, "E", "P", Rate::Low),
    ("I0", "BTW inkopen 0%", 0.0, "B", "P", Rate::Zero),
];

const UK_VAT: &[VatRow] = &[
    ("SR", "Standard rated sales 20%", 0.20, "E", "S", Rate::High),
    ("RR", "Reduced rate sales 5%", 0.05, "E", "S", Rate::Low),
    (
        "ZR",
        "Zero rated sales and exports",
        0.0,
        "B",
        "S",
        Rate::Zero,
    ),
    (
        "PSR",
        "Standard rated purchases 20%",
        0.20,
        "E",
        "P",
        Rate::High,
    ),
    (
        "PRR",
        "Reduced rate purchases 5%",
        0.05,
        "E",
        "P",
        Rate::Low,
    ),
    ("PZR", "Zero rated purchases", 0.0, "B", "P", Rate::Zero),
];

/// A GL account of the generated chart.
#[derive(Clone, Debug)]
pub(crate) struct Gl {
    pub id: Uuid,
    pub code: &'static str,
    pub description: &'static str,
    pub kind: i32,
    pub side: &'static str,
    pub balance: &'static str,
    pub role: Role,
    /// `IsBlocked`.
    pub blocked: bool,
}

/// A VAT code of the division.
#[derive(Clone, Debug)]
pub(crate) struct VatCode {
    pub id: Uuid,
    /// Padded to 3 characters, as on the wire.
    pub code: String,
    pub description: &'static str,
    pub pct: f64,
    pub kind: &'static str,
    /// "S" sales or "P" purchase.
    pub tx: &'static str,
    pub rate: Rate,
    pub gl_pay: Uuid,
    pub gl_claim: Uuid,
}

/// A division's chart: GL accounts, VAT codes, journals.
#[derive(Clone, Debug)]
pub(crate) struct Chart {
    pub gl: Vec<Gl>,
    pub vat: Vec<VatCode>,
    pub region: Region,
}

impl Chart {
    /// Builds the chart with GUIDs derived from the division's root GUID.
    pub fn new(region: Region, root: Uuid) -> Chart {
        let (gl_rows, vat_rows) = match region {
            Region::Nl => (NL_GL, NL_VAT),
            Region::Uk => (UK_GL, UK_VAT),
        };
        let gl: Vec<Gl> = gl_rows
            .iter()
            .enumerate()
            .map(|(i, &(code, description, kind, side, balance, role))| Gl {
                id: wire::derived_id(root, 1000 + i as u64),
                code,
                description,
                kind,
                side,
                balance,
                role,
                blocked: BLOCKED.contains(&(region, code)),
            })
            .collect();
        let by_role = |r: Role| gl.iter().find(|g| g.role == r).map(|g| g.id);
        let claim = by_role(Role::VatClaim).unwrap_or_default();
        let pay_high = by_role(Role::VatPayHigh).unwrap_or_default();
        let pay_low = by_role(Role::VatPayLow).unwrap_or(pay_high);
        let vat = vat_rows
            .iter()
            .enumerate()
            .map(|(i, &(code, description, pct, kind, tx, rate))| VatCode {
                id: wire::derived_id(root, 2000 + i as u64),
                code: wire::vat_code(code),
                description,
                pct,
                kind,
                tx,
                rate,
                gl_pay: if rate == Rate::Low { pay_low } else { pay_high },
                gl_claim: claim,
            })
            .collect();
        Chart { gl, vat, region }
    }

    /// The first GL account with a role (every chart has each role the generator asks for).
    pub fn role(&self, role: Role) -> Uuid {
        self.gl
            .iter()
            .find(|g| g.role == role)
            .map(|g| g.id)
            .unwrap_or_default()
    }

    /// Every GL account with a role.
    pub fn all(&self, role: Role) -> Vec<Uuid> {
        self.gl
            .iter()
            .filter(|g| g.role == role)
            .map(|g| g.id)
            .collect()
    }

    /// The revenue account for a sales VAT rate.
    pub fn revenue(&self, rate: Rate) -> Uuid {
        self.role(match rate {
            Rate::High => Role::RevenueHigh,
            Rate::Low => Role::RevenueLow,
            Rate::Zero => Role::RevenueZero,
        })
    }

    /// The VAT code for a transaction type ("S"/"P") and rate.
    pub fn vat_for(&self, tx: &str, rate: Rate) -> &VatCode {
        self.vat
            .iter()
            .find(|v| v.tx == tx && v.rate == rate)
            .unwrap_or(&self.vat[0])
    }

    /// A VAT code by its (padded or trimmed) code.
    pub fn vat_by_code(&self, code: &str) -> Option<&VatCode> {
        self.vat.iter().find(|v| v.code.trim() == code.trim())
    }

    /// (code, description) of a journal kind: sales, purchase, bank, general.
    pub fn journal(&self, kind: Journal) -> (&'static str, &'static str) {
        let nl = self.region == Region::Nl;
        match kind {
            Journal::Sales => ("70", if nl { "Verkoopboek" } else { "Sales journal" }),
            Journal::Purchase => ("60", if nl { "Inkoopboek" } else { "Purchase journal" }),
            Journal::Bank => ("20", "Bank"),
            Journal::General => ("90", if nl { "Memoriaal" } else { "General journal" }),
        }
    }

    /// The `financial/GLAccounts` row of an account.
    pub fn gl_fields(&self, g: &Gl, division: i32) -> serde_json::Map<String, Value> {
        wire::obj(json!({
            "ID": wire::guid(g.id),
            "Code": g.code,
            "Description": g.description,
            "SearchCode": g.code,
            "Type": g.kind,
            "TypeDescription": gl_type_description(g.kind),
            "BalanceSide": g.side,
            "BalanceType": g.balance,
            "IsBlocked": g.blocked,
            "VATCode": Value::Null,
            "Costcenter": Value::Null,
            "Costunit": Value::Null,
            "Division": division,
        }))
    }

    /// The `vat/VATCodes` row of a code.
    pub fn vat_fields(&self, v: &VatCode, division: i32) -> serde_json::Map<String, Value> {
        wire::obj(json!({
            "ID": wire::guid(v.id),
            "Code": v.code,
            "Description": v.description,
            "Percentage": wire::number(v.pct),
            "Type": v.kind,
            "VATTransactionType": v.tx,
            "GLToPay": wire::guid(v.gl_pay),
            "GLToClaim": wire::guid(v.gl_claim),
            "IsBlocked": false,
            "Division": division,
        }))
    }
}

/// Journal kinds the generator books into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Journal {
    Sales,
    Purchase,
    Bank,
    General,
}

/// Exact's English `TypeDescription` of a GL account type: every type Exact has (EXACT.md §7).
pub(crate) fn gl_type_description(kind: i32) -> &'static str {
    match kind {
        10 => "Cash",
        12 => "Bank",
        14 => "Credit card",
        16 => "Payment service",
        20 => "Accounts receivable",
        21 => "Prepayment accounts receivable",
        22 => "Accounts payable",
        24 => "VAT",
        25 => "Employees payable",
        26 => "Prepaid expenses",
        27 => "Accrued expenses",
        29 => "Income taxes payable",
        30 => "Fixed assets",
        32 => "Other assets",
        35 => "Accumulated depreciation",
        40 => "Inventory",
        50 => "Capital stock",
        52 => "Retained earnings",
        55 => "Long term debt",
        60 => "Current portion of debt",
        90 => "General",
        100 => "Tax payable",
        110 => "Revenue",
        111 => "Cost of goods",
        120 => "Other costs",
        121 => "Sales, general administrative expenses",
        122 => "Depreciation costs",
        123 => "Research and development",
        125 => "Employee costs",
        126 => "Employment costs",
        130 => "Exceptional costs",
        140 => "Exceptional income",
        150 => "Income taxes",
        160 => "Interest income",
        300 => "Year end reflection",
        301 => "Indirect year end costing",
        302 => "Direct year end costing",
        _ => "General",
    }
}
