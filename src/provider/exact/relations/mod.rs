//! Exact relations (`crm/Accounts`) → Codat's Customer and Supplier.
//!
//! Both data types come from one read of `sync/CRM/Accounts` (1,000 rows a call) per pull run.
//! An account is a **customer** when its `Status` is C or `IsSales` is set, a **supplier** when
//! `IsSupplier` is set; an account may be both, and is then served in both data types under the
//! same id. Suspects, prospects and plain accounts that neither sell nor buy are neither.
//!
//! | Exact | Customer / Supplier | why |
//! |---|---|---|
//! | `ID` | `id` | the account's GUID: the id an invoice's `customerRef.id` (`InvoiceTo`) and a bill's `supplierRef.id` hold |
//! | `Name` | `customerName` / `supplierName` | |
//! | `Email` | `emailAddress` | |
//! | `Phone` | `phone` | |
//! | `SalesCurrency` / `PurchaseCurrency` | `defaultCurrency` | the currency each side invoices in |
//! | `VATNumber` | `taxNumber` | |
//! | `ChamberOfCommerce` | `registrationNumber` | KvK (NL) or Companies House (UK) number |
//! | `Blocked` | `status` | blocked → `Archived`, not blocked → `Active`, unknown → `Unknown` |
//! | `AddressLine1`, `AddressLine2` + `AddressLine3`, `City`, `State`, `Postcode`, `Country` | `addresses[0]` (`Billing`) | the account's main address, which Exact invoices to unless a separate invoice address is kept (`crm/Addresses`, not read); `line2` joins lines 2 and 3; `country` is the ISO code (`CountryName` is localised) |
//! | `MainContact` | `contactName` | the full name of the relation's main contact, and the customer's `contacts` from its people: see `contacts` |
//! | `Modified` | `sourceModifiedDate` | local wall-clock time |
//!
//! Exact pads codes and sends blanks for what is unknown: a blank or null field is left out of
//! the record, never sent as `null`, and an address with no part at all is no address.
//!
//! Exact keeps a relation's people in `crm/Contacts` (read beside the accounts, once a run, see
//! `pull`); `MainContact` is only the main one's GUID. Not mapped: `supplementalData`.

use chrono::NaiveDateTime;
use serde::Deserialize;

pub mod contacts;
pub(in crate::provider::exact) mod pull;

use super::row::de;
use crate::model::{
    Address, AddressType, Customer, CustomerStatus, Metadata, Supplier, SupplierStatus,
    local_datetime,
};
use contacts::ContactRow;

/// One row of `sync/CRM/Accounts`. Only what the mapping reads; the pull's `$select` is these
/// fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AccountRow {
    #[serde(deserialize_with = "de::int64")]
    pub timestamp: Option<i64>,
    #[serde(rename = "ID", deserialize_with = "de::text")]
    pub id: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub name: Option<String>,
    /// A none, S suspect, P prospect, C customer.
    #[serde(deserialize_with = "de::text")]
    pub status: Option<String>,
    #[serde(deserialize_with = "de::flag")]
    pub is_sales: Option<bool>,
    #[serde(deserialize_with = "de::flag")]
    pub is_supplier: Option<bool>,
    #[serde(deserialize_with = "de::flag")]
    pub blocked: Option<bool>,
    #[serde(deserialize_with = "de::text")]
    pub email: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub phone: Option<String>,
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
    pub country: Option<String>,
    #[serde(rename = "VATNumber", deserialize_with = "de::text")]
    pub vat_number: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub chamber_of_commerce: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub sales_currency: Option<String>,
    #[serde(deserialize_with = "de::text")]
    pub purchase_currency: Option<String>,
    /// The GUID of the relation's main contact (`crm/Contacts.ID`).
    #[serde(deserialize_with = "de::text")]
    pub main_contact: Option<String>,
    #[serde(deserialize_with = "de::date")]
    pub modified: Option<NaiveDateTime>,
}

impl AccountRow {
    /// A customer: `Status` C, or flagged for sales.
    pub fn is_customer(&self) -> bool {
        self.status.as_deref() == Some("C") || self.is_sales == Some(true)
    }

    /// A supplier: flagged as one.
    pub fn is_supplier(&self) -> bool {
        self.is_supplier == Some(true)
    }
}

/// What one account is in Codat's model: a customer, a supplier, both or neither.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub customer: Option<Customer>,
    pub supplier: Option<Supplier>,
}

/// Maps one account, with its people (`crm/Contacts` whose `Account` it is), to the customer
/// and/or supplier it is.
pub fn map_relation(row: &AccountRow, people: &[ContactRow]) -> Result<Relation, String> {
    let id = row.id.clone().ok_or("no ID")?;
    let contact_name =
        contacts::main_contact(row.main_contact.as_deref(), people).and_then(ContactRow::name);
    Ok(Relation {
        customer: row.is_customer().then(|| Customer {
            contact_name: contact_name.clone(),
            contacts: contacts::map_contacts(row.main_contact.as_deref(), people),
            ..map_customer(id.clone(), row)
        }),
        supplier: row.is_supplier().then(|| Supplier {
            contact_name,
            ..map_supplier(id, row)
        }),
    })
}

fn map_customer(id: String, row: &AccountRow) -> Customer {
    let status = match row.blocked {
        Some(true) => CustomerStatus::Archived,
        Some(false) => CustomerStatus::Active,
        None => CustomerStatus::Unknown,
    };
    Customer {
        id,
        customer_name: row.name.clone(),
        contact_name: None,
        email_address: row.email.clone(),
        phone: row.phone.clone(),
        default_currency: row.sales_currency.clone(),
        tax_number: row.vat_number.clone(),
        registration_number: row.chamber_of_commerce.clone(),
        status,
        addresses: main_address(row).into_iter().collect(),
        contacts: Vec::new(),
        modified_date: None,
        source_modified_date: row.modified.map(local_datetime),
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
    }
}

fn map_supplier(id: String, row: &AccountRow) -> Supplier {
    let status = match row.blocked {
        Some(true) => SupplierStatus::Archived,
        Some(false) => SupplierStatus::Active,
        None => SupplierStatus::Unknown,
    };
    Supplier {
        id,
        supplier_name: row.name.clone(),
        contact_name: None,
        email_address: row.email.clone(),
        phone: row.phone.clone(),
        default_currency: row.purchase_currency.clone(),
        tax_number: row.vat_number.clone(),
        registration_number: row.chamber_of_commerce.clone(),
        status,
        addresses: main_address(row).into_iter().collect(),
        modified_date: None,
        source_modified_date: row.modified.map(local_datetime),
        metadata: Metadata {
            is_deleted: Some(false),
        },
        supplemental_data: None,
    }
}

/// The account's main address; `None` when Exact holds none of its parts.
fn main_address(row: &AccountRow) -> Option<Address> {
    let line2 = match (&row.address_line2, &row.address_line3) {
        (Some(two), Some(three)) => Some(format!("{two}, {three}")),
        (two, three) => two.clone().or_else(|| three.clone()),
    };
    Address {
        r#type: AddressType::Billing,
        line1: row.address_line1.clone(),
        line2,
        city: row.city.clone(),
        region: row.state.clone(),
        country: row.country.clone(),
        postal_code: row.postcode.clone(),
    }
    .unless_empty()
}

#[cfg(test)]
mod tests;
