//! The people of the relations (`crm/Contacts`, Exact's field list from picqer's `Contact.php` and
//! `SyncContact.php`): generated per relation, and created, changed and deleted by the admin API.
//!
//! Generation draws from a stream of its own, so the rest of the books stay what they were
//! without contacts. About one relation in five has none; the others have one to three, the
//! first the relation's main contact (`crm/Accounts.MainContact`, and on every contact
//! `AccountMainContact`, `IsMainContact`). Some contacts have no e-mail or no phone, some a
//! mobile or a fax, some an address of their own; NL names may carry a `MiddleName`
//! (tussenvoegsel such as "van der"). `Email`/`BusinessEmail`, `Phone`/`BusinessPhone` and
//! `Mobile`/`BusinessMobile` hold the same value, as Exact keeps them in step.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::division::{Division, Row};
use super::generate::new_id;
use super::{BooksError, EntitySet, Key, names, wire};
use crate::sandbox::region::Region;

const NL_FIRST: &[&str] = &[
    "Anouk", "Bram", "Daan", "Eva", "Femke", "Joris", "Lotte", "Maarten", "Noor", "Pieter",
    "Sanne", "Thijs", "Wouter", "Ilse",
];
const NL_LAST: &[(&str, &str)] = &[
    ("", "Jansen"),
    ("de", "Vries"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("van der", "Meer"),
    ("", "Visser"),
    ("de", "Boer"),
    ("van den", "Berg"),
    ("", "Smit"),
    ("", "Mulder"),
];
const UK_FIRST: &[&str] = &[
    "Oliver", "Amelia", "George", "Isla", "Harry", "Emily", "Jack", "Sophie", "Thomas", "Grace",
    "James", "Lucy",
];
const UK_LAST: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Walker", "Wright",
    "Hughes", "O'Brien", "Clarke",
];
const NL_JOBS: &[&str] = &["Directeur", "Inkoper", "Administratie", "Office manager"];
const UK_JOBS: &[&str] = &["Director", "Buyer", "Accounts payable", "Office manager"];

/// What a generated contact needs to know of its relation.
pub(crate) struct Relation<'a> {
    pub id: Uuid,
    pub name: &'a str,
    /// `crm/Accounts.Code`, padded.
    pub code: &'a str,
    pub is_customer: bool,
    pub is_supplier: bool,
    /// The relation's own e-mail (`info@domain`): contacts use its domain.
    pub email: &'a str,
    pub country: &'a str,
    /// The relation's position among those generated: decides how many contacts it has.
    pub index: u32,
}

/// The contact rows of one generated relation, the main contact first (none for about one
/// relation in five).
pub(crate) fn generate(
    people: &mut ChaCha8Rng,
    region: Region,
    hid: &mut i32,
    relation: &Relation<'_>,
) -> Vec<Row> {
    let count = match relation.index % 5 {
        3 => 0,
        0 => 3,
        2 => 2,
        _ => 1,
    };
    let ids: Vec<Uuid> = (0..count).map(|_| new_id(people)).collect();
    let main = ids.first().copied();
    ids.iter()
        .map(|id| {
            *hid += 1;
            let fields = person(people, region, *id, *hid, relation, main);
            Row::guid(EntitySet::Contacts, *id, fields)
        })
        .collect()
}

fn person(
    rng: &mut ChaCha8Rng,
    region: Region,
    id: Uuid,
    hid: i32,
    relation: &Relation<'_>,
    main: Option<Uuid>,
) -> Map<String, Value> {
    let (first, middle, last, job) = match region {
        Region::Nl => {
            let (middle, last) = NL_LAST.choose(rng).copied().unwrap_or(("", "Jansen"));
            (pick(rng, NL_FIRST), middle, last, pick(rng, NL_JOBS))
        }
        Region::Uk => (
            pick(rng, UK_FIRST),
            "",
            pick(rng, UK_LAST),
            pick(rng, UK_JOBS),
        ),
    };
    let domain = relation.email.rsplit('@').next().unwrap_or_default();
    let local: String = first
        .to_lowercase()
        .chars()
        .chain(['.'])
        .chain(
            last.to_lowercase()
                .chars()
                .filter(char::is_ascii_alphanumeric),
        )
        .collect();
    // Some people have no e-mail or no phone; a few a mobile, a fax or an address of their own.
    let email = (rng.gen_range(0..4) != 1).then(|| format!("{local}@{domain}"));
    let phone = (rng.gen_range(0..3) != 2).then(|| names::phone(rng, region));
    let mobile = rng.gen_bool(0.3).then(|| names::phone(rng, region));
    let fax = rng.gen_bool(0.1).then(|| names::phone(rng, region));
    let address = rng.gen_bool(0.25).then(|| names::address(rng, region));
    let (street, number, city, postcode) = match &address {
        Some((line, city, postcode)) => {
            // names::address writes "Street 12" (NL) or "12 Street" (UK): split off the number.
            let (street, number) = match line.rsplit_once(' ') {
                Some((s, n)) if n.chars().all(|c| c.is_ascii_digit()) => (s, n),
                _ => match line.split_once(' ') {
                    Some((n, s)) => (s, n),
                    None => (line.as_str(), ""),
                },
            };
            (
                Value::from(street),
                Value::from(number),
                Value::from(city.as_str()),
                Value::from(postcode.as_str()),
            )
        }
        None => (Value::Null, Value::Null, Value::Null, Value::Null),
    };
    let country = if address.is_some() {
        Value::from(relation.country)
    } else {
        Value::Null
    };
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    let initials: String = first.chars().take(1).chain(['.']).collect();
    let mut fields = wire::obj(json!({
        "ID": wire::guid(id),
        "Account": wire::guid(relation.id),
        "AccountIsCustomer": relation.is_customer,
        "AccountIsSupplier": relation.is_supplier,
        "AccountMainContact": main.map_or(Value::Null, wire::guid),
        "AccountName": relation.name,
        "AddressLine2": Value::Null,
        "AddressStreet": street,
        "AddressStreetNumber": number,
        "AddressStreetNumberSuffix": Value::Null,
        "BusinessEmail": text(&email),
        "BusinessFax": text(&fax),
        "BusinessMobile": text(&mobile),
        "BusinessPhone": text(&phone),
        "City": city,
        "Code": relation.code,
        "Country": country,
        "Email": text(&email),
        "EndDate": Value::Null,
        "FirstName": first,
        "FullName": Value::Null,
        "Gender": "O",
        "HID": hid,
        "Initials": initials,
        "IsMainContact": main == Some(id),
        "JobTitleDescription": job,
        "Language": match region { Region::Nl => "NL", Region::Uk => "EN" },
        "LastName": last,
        "MiddleName": if middle.is_empty() { Value::Null } else { Value::from(middle) },
        "Mobile": text(&mobile),
        "Phone": text(&phone),
        "PhoneExtension": Value::Null,
        "Postcode": postcode,
        "State": Value::Null,
        "StartDate": Value::Null,
        "Title": Value::Null,
    }));
    set_full_name(&mut fields);
    fields
}

fn pick<'a>(rng: &mut ChaCha8Rng, xs: &[&'a str]) -> &'a str {
    xs.choose(rng).copied().unwrap_or(xs[0])
}

/// `FullName` = first, middle and last name, as Exact composes it.
fn set_full_name(fields: &mut Map<String, Value>) {
    let full = ["FirstName", "MiddleName", "LastName"]
        .iter()
        .filter_map(|k| fields.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    fields.insert(
        "FullName".into(),
        if full.is_empty() {
            Value::Null
        } else {
            Value::String(full)
        },
    );
}

/// Fields the admin API may not write: keys, the relation and what follows from it.
const DERIVED: &[&str] = &[
    "ID",
    "Account",
    "AccountIsCustomer",
    "AccountIsSupplier",
    "AccountMainContact",
    "AccountName",
    "Code",
    "FullName",
    "HID",
    "IsMainContact",
    "Created",
    "Modified",
    "Division",
];

/// Writes the writable fields of `patch` onto `fields` (strings and booleans, typed as stored).
fn apply(fields: &mut Map<String, Value>, patch: Map<String, Value>) -> Result<(), BooksError> {
    for (k, v) in patch {
        if DERIVED.contains(&k.as_str()) {
            continue;
        }
        let Some(old) = fields.get(&k) else {
            return Err(BooksError::Invalid(format!("{k}: no such contact field")));
        };
        let ok = matches!(
            (old, &v),
            (Value::Bool(_), Value::Bool(_))
                | (
                    Value::String(_) | Value::Null,
                    Value::String(_) | Value::Null
                )
        );
        if !ok {
            return Err(BooksError::Invalid(format!("{k}: wrong type")));
        }
        // Exact keeps these pairs in step.
        let twin = match k.as_str() {
            "Email" => Some("BusinessEmail"),
            "Phone" => Some("BusinessPhone"),
            "Mobile" => Some("BusinessMobile"),
            "BusinessEmail" => Some("Email"),
            "BusinessPhone" => Some("Phone"),
            "BusinessMobile" => Some("Mobile"),
            _ => None,
        };
        if let Some(twin) = twin {
            fields.insert(twin.into(), v.clone());
        }
        fields.insert(k, v);
    }
    set_full_name(fields);
    Ok(())
}

/// Creates a contact of the relation `Account`; the relation's first contact becomes its main.
pub(crate) fn create(d: &mut Division, m: Map<String, Value>) -> Result<Key, BooksError> {
    let account = m
        .get("Account")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| BooksError::Invalid("Account: the relation's GUID is required".into()))?;
    let account_row = d
        .table(EntitySet::Accounts)
        .get(&Key::Guid(account))
        .ok_or_else(|| BooksError::Invalid("Account: no such relation".into()))?
        .fields
        .to_map();
    let named = ["FirstName", "LastName"].iter().any(|k| {
        m.get(*k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    });
    if !named {
        return Err(BooksError::Invalid(
            "provide at least FirstName or LastName".into(),
        ));
    }
    let id = new_id(&mut d.rng);
    d.seq.contact += 1;
    let main = match account_row.get("MainContact") {
        Some(Value::String(main)) => Uuid::parse_str(main).ok(),
        _ => None,
    };
    let becomes_main = main.is_none();
    let flag = |k: &str| account_row.get(k).cloned().unwrap_or(Value::Bool(false));
    let mut fields = wire::obj(json!({
        "ID": wire::guid(id),
        "Account": wire::guid(account),
        "AccountIsCustomer": flag("IsSales"),
        "AccountIsSupplier": flag("IsSupplier"),
        "AccountMainContact": wire::guid(main.unwrap_or(id)),
        "AccountName": account_row.get("Name").cloned().unwrap_or(Value::Null),
        "Code": account_row.get("Code").cloned().unwrap_or(Value::Null),
        "HID": d.seq.contact,
        "IsMainContact": becomes_main,
        "Gender": "O",
    }));
    for k in [
        "AddressLine2",
        "AddressStreet",
        "AddressStreetNumber",
        "AddressStreetNumberSuffix",
        "BusinessEmail",
        "BusinessFax",
        "BusinessMobile",
        "BusinessPhone",
        "City",
        "Country",
        "Email",
        "EndDate",
        "FirstName",
        "FullName",
        "Initials",
        "JobTitleDescription",
        "Language",
        "LastName",
        "MiddleName",
        "Mobile",
        "Phone",
        "PhoneExtension",
        "Postcode",
        "State",
        "StartDate",
        "Title",
    ] {
        fields.insert(k.into(), Value::Null);
    }
    apply(&mut fields, m)?;
    let now = d.now_local();
    d.upsert(Row::guid(EntitySet::Contacts, id, fields), now, now);
    if becomes_main {
        set_main_contact(d, account, Some(id));
    }
    Ok(Key::Guid(id))
}

/// Patches a contact; `FullName` follows its name parts.
pub(crate) fn update(d: &mut Division, id: Uuid, m: Map<String, Value>) -> Result<(), BooksError> {
    let mut fields = d
        .table(EntitySet::Contacts)
        .get(&Key::Guid(id))
        .ok_or(BooksError::NoSuchRecord)?
        .fields
        .to_map();
    apply(&mut fields, m)?;
    let now = d.now_local();
    d.upsert(Row::guid(EntitySet::Contacts, id, fields), now, now);
    Ok(())
}

/// Deletes a contact (logged with EntityType 5); a deleted main contact leaves its relation
/// without one.
pub(crate) fn delete(d: &mut Division, id: Uuid) -> Result<(), BooksError> {
    let key = Key::Guid(id);
    let old = d
        .remove(EntitySet::Contacts, &key)
        .ok_or(BooksError::NoSuchRecord)?;
    let was_main = old.fields.value("IsMainContact") == Some(Value::Bool(true));
    let account = old
        .fields
        .value("Account")
        .and_then(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()));
    if let (true, Some(account)) = (was_main, account) {
        set_main_contact(d, account, None);
    }
    Ok(())
}

/// Deletes every contact of a relation being deleted (each logged).
pub(crate) fn delete_of(d: &mut Division, account: Uuid) {
    for key in contacts_of(d, account) {
        d.remove(EntitySet::Contacts, &key);
    }
}

fn contacts_of(d: &Division, account: Uuid) -> Vec<Key> {
    let account = Value::String(account.to_string());
    d.table(EntitySet::Contacts)
        .records()
        .filter(|r| r.fields.value("Account").as_ref() == Some(&account))
        .map(|r| r.key.clone())
        .collect()
}

/// Points the relation (and each of its contacts) at its new main contact.
fn set_main_contact(d: &mut Division, account: Uuid, main: Option<Uuid>) {
    let now = d.now_local();
    let main_value = main.map_or(Value::Null, wire::guid);
    if let Some(row) = d.table(EntitySet::Accounts).get(&Key::Guid(account)) {
        let mut fields = row.fields.to_map();
        fields.insert("MainContact".into(), main_value.clone());
        d.upsert(Row::guid(EntitySet::Accounts, account, fields), now, now);
    }
    for key in contacts_of(d, account) {
        let Some(row) = d.table(EntitySet::Contacts).get(&key) else {
            continue;
        };
        let mut fields = row.fields.to_map();
        fields.insert("AccountMainContact".into(), main_value.clone());
        let is_main = matches!(&key, Key::Guid(id) if Some(*id) == main);
        fields.insert("IsMainContact".into(), Value::Bool(is_main));
        d.upsert(
            Row {
                set: EntitySet::Contacts,
                key,
                fields,
            },
            now,
            now,
        );
    }
}
