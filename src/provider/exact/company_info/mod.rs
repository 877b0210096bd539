//! Exact's division → Codat's company info (data type `company`, a single record).
//!
//! Read from `system/Divisions` (one call), the row the pull run reads once anyway for the
//! division's currency (see `ExactProvider::division_row`). `current/Me` adds nothing about the
//! company (it describes the user), so it is not read.
//!
//! | Exact (`system/Divisions`) | CompanyInfo | why |
//! |---|---|---|
//! | `Code` | `accountingPlatformRef`; the stored record's id | the division is the company in Exact |
//! | `Description` | `companyName` | Exact keeps one name per division; no separate legal name |
//! | `Currency` | `baseCurrency` | the division's own currency (`*DC` amounts) |
//! | `ChamberOfCommerceNumber` | `registrationNumber` | KvK (NL) / Companies House (UK) number |
//! | `VATNumber` | `taxNumber` | |
//! | `AddressLine1`–`3`, `City`, `Postcode`, `State`, `Country` | `addresses[0]` (`Billing`) | the company's own address, what invoices are sent from; lines 2 and 3 are joined into `line2` |
//! | `Phone` | `phoneNumbers[0]` (`Primary`) | |
//! | `Website` | `webLinks[0]` (`Website`) | |
//! | `Created` | `createdDate` | local time |
//!
//! `financialYearStartDate` and `ledgerLockDate` are not in the division row (Exact keeps them
//! in `financial/FinancialPeriods` and the closing settings) and are left out.

use chrono::NaiveDateTime;
use serde::Deserialize;

mod pull;

use super::row::de;
use crate::model::{
    Address, AddressType, CompanyInfo, PhoneNumber, PhoneNumberType, WebLink, WebLinkType,
    local_datetime,
};

/// A `system/Divisions` row: what the pull run needs of the division (its currency) and what
/// company info is made of.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DivisionRow {
    #[serde(deserialize_with = "de::int64")]
    pub code: Option<i64>,
    #[serde(deserialize_with = "de::text")]
    pub description: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub country: Option<String>,
    #[serde(rename = "VATNumber", deserialize_with = "de::text")]
    pub vat_number: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub chamber_of_commerce_number: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub address_line1: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub address_line2: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub address_line3: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub city: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub postcode: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub state: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub phone: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub website: Option<String>,
    #[serde(deserialize_with = "de::date")]
    pub created: Option<NaiveDateTime>,
    /// When the division last moved between Exact's databases: every sync Timestamp was
    /// regenerated then, so incremental pulls start over (EXACT.md §2).
    #[serde(deserialize_with = "de::date")]
    pub division_move_date: Option<NaiveDateTime>,
}

/// Maps the division's row to company info.
pub fn map_company_info(row: &DivisionRow) -> CompanyInfo {
    let line2 = [&row.address_line2, &row.address_line3]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>();
    let has_address = [
        &row.address_line1,
        &row.city,
        &row.postcode,
        &row.state,
        &row.country,
    ]
    .iter()
    .any(|f| f.is_some())
        || !line2.is_empty();
    let addresses = has_address
        .then(|| Address {
            r#type: AddressType::Billing,
            line1: row.address_line1.clone(),
            line2: (!line2.is_empty()).then(|| line2.join(", ")),
            city: row.city.clone(),
            region: row.state.clone(),
            country: row.country.clone(),
            postal_code: row.postcode.clone(),
        })
        .into_iter()
        .collect();
    CompanyInfo {
        company_name: row.description.clone(),
        company_legal_name: None,
        accounting_platform_ref: row.code.map(|c| c.to_string()),
        base_currency: row.currency.clone(),
        registration_number: row.chamber_of_commerce_number.clone(),
        tax_number: row.vat_number.clone(),
        financial_year_start_date: None,
        ledger_lock_date: None,
        created_date: row.created.map(local_datetime),
        addresses,
        phone_numbers: row
            .phone
            .clone()
            .map(|number| PhoneNumber {
                number: Some(number),
                r#type: PhoneNumberType::Primary,
            })
            .into_iter()
            .collect(),
        web_links: row
            .website
            .clone()
            .map(|url| WebLink {
                r#type: WebLinkType::Website,
                url: Some(url),
            })
            .into_iter()
            .collect(),
        source_urls: None,
        modified_date: None,
        supplemental_data: None,
    }
}

#[cfg(test)]
mod tests;
