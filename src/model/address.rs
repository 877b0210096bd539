//! Codat's Address (`../shared/CODAT.md` §4.2): the shape customers, suppliers, their contacts
//! and company info share. Only `type` is required.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an address is for. Closed: Codat's SDK rejects any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AddressType {
    Unknown,
    Billing,
    Delivery,
}

impl AddressType {
    /// Every value Codat allows.
    pub const ALL: [AddressType; 3] = [
        AddressType::Unknown,
        AddressType::Billing,
        AddressType::Delivery,
    ];
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub r#type: AddressType,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State, province or county.
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[schema(nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
}

impl Address {
    /// The address, or `None` when the upstream gave none of its parts: an address of only a
    /// type says nothing.
    pub fn unless_empty(self) -> Option<Address> {
        let parts = [
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.country,
            &self.postal_code,
        ];
        parts.iter().any(|part| part.is_some()).then_some(self)
    }
}
