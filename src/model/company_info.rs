//! Codat's company info (`../shared/CODAT.md` §4.7, data type key `company`, read at
//! `/companies/{companyId}/data/info`, SDK model `CompanyDataset`): a single record about the
//! company behind the connection. Codat requires no field; inside the arrays `type` is required.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Address, PhoneNumber};

/// What a web link points at. Closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum WebLinkType {
    Website,
    Social,
    Unknown,
}

/// A web address of the company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebLink {
    #[serde(rename = "type")]
    pub r#type: WebLinkType,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl CompanyInfo {
    /// The scalar property paths of the record (a single record is not listed, so these only
    /// document what the record holds).
    pub const QUERY_PATHS: &'static [&'static str] = &[
        "companyName",
        "companyLegalName",
        "accountingPlatformRef",
        "baseCurrency",
        "registrationNumber",
        "taxNumber",
        "financialYearStartDate",
        "ledgerLockDate",
        "createdDate",
        "modifiedDate",
    ];
}

/// The company behind a connection, in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyInfo {
    /// The name the company trades under.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// The registered name, where the source keeps it apart from `companyName`.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_legal_name: Option<String>,
    /// The company's identifier in the accounting platform (Exact: the division code).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounting_platform_ref: Option<String>,
    /// ISO 4217: the currency the books are kept in.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_currency: Option<String>,
    /// The company register's number (KvK, Companies House).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    /// The VAT number.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_number: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub financial_year_start_date: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_lock_date: Option<String>,
    /// When the company was created in the accounting platform (local time).
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    pub addresses: Vec<Address>,
    pub phone_numbers: Vec<PhoneNumber>,
    pub web_links: Vec<WebLink>,
    /// Links into the accounting platform, by name.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_urls: Option<std::collections::BTreeMap<String, String>>,
    /// A Ledgerline extension (Codat's company info has no such field): when Ledgerline last saw
    /// the record change (UTC), set by the store on every change, as on every data type.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<String>,
    #[schema(nullable = false, value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplemental_data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(some: bool) -> CompanyInfo {
        let text = |t: &str| some.then(|| t.to_string());
        CompanyInfo {
            company_name: text("Acme"),
            company_legal_name: text("Acme B.V."),
            accounting_platform_ref: text("101001"),
            base_currency: text("EUR"),
            registration_number: text("12345678"),
            tax_number: text("NL001234567B01"),
            financial_year_start_date: text("2025-01-01T00:00:00"),
            ledger_lock_date: text("2025-01-01T00:00:00"),
            created_date: text("2024-01-01T00:00:00"),
            addresses: vec![Address {
                r#type: crate::model::AddressType::Billing,
                line1: None,
                line2: None,
                city: None,
                region: None,
                country: None,
                postal_code: None,
            }],
            phone_numbers: vec![PhoneNumber {
                number: None,
                r#type: crate::model::PhoneNumberType::Primary,
            }],
            web_links: vec![],
            source_urls: None,
            modified_date: text("2025-02-01T00:00:00Z"),
            supplemental_data: None,
        }
    }

    #[test]
    fn fields_without_a_value_are_left_out_never_null() {
        let json = serde_json::to_string(&info(false)).unwrap();
        assert_eq!(
            json,
            r#"{"addresses":[{"type":"Billing"}],"phoneNumbers":[{"type":"Primary"}],"webLinks":[]}"#
        );
        let back: CompanyInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info(false));
    }

    #[test]
    fn query_paths_are_exactly_the_scalar_paths_of_the_serialized_record() {
        super::super::assert_query_paths_are_the_scalar_paths(
            &serde_json::to_value(info(true)).unwrap(),
            CompanyInfo::QUERY_PATHS,
        );
    }
}
