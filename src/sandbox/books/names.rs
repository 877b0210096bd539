//! Plausible NL and UK names, addresses and products for generated relations and invoices.

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::chart::Rate;
use crate::sandbox::region::Region;

const NL_SURNAMES: &[&str] = &[
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "van den Berg",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van Dijk",
];
const NL_TRADES: &[&str] = &[
    "Bouwbedrijf",
    "Installatietechniek",
    "Drukkerij",
    "Bakkerij",
    "Transport",
    "Adviesgroep",
    "Schildersbedrijf",
    "Automatisering",
    "Tuinarchitectuur",
    "Groothandel",
    "Metaalbewerking",
    "Communicatie",
    "Vastgoed",
    "Schoonmaakdiensten",
    "Elektrotechniek",
    "Horeca",
];
const NL_FORMS: &[&str] = &["B.V.", "B.V.", "B.V.", "V.O.F.", "Holding B.V.", ""];
const NL_CITIES: &[(&str, &str)] = &[
    ("Amsterdam", "10"),
    ("Rotterdam", "30"),
    ("Utrecht", "35"),
    ("Den Haag", "25"),
    ("Eindhoven", "56"),
    ("Groningen", "97"),
    ("Zwolle", "80"),
    ("Haarlem", "20"),
    ("Arnhem", "68"),
    ("Breda", "48"),
    ("Nijmegen", "65"),
    ("Leiden", "23"),
    ("Maastricht", "62"),
    ("Amersfoort", "38"),
];
const NL_STREETS: &[&str] = &[
    "Hoofdstraat",
    "Kerkstraat",
    "Stationsweg",
    "Industrieweg",
    "Marktplein",
    "Dorpsstraat",
    "Kanaalweg",
    "Molenstraat",
    "Julianalaan",
    "Nieuwe Gracht",
    "Havenstraat",
    "Parallelweg",
];
const UK_SURNAMES: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Hughes", "Edwards", "Turner", "Hill", "Cooper", "Ward",
];
const UK_TRADES: &[&str] = &[
    "Construction",
    "Engineering",
    "Print",
    "Bakery",
    "Logistics",
    "Consulting",
    "Decorators",
    "IT Services",
    "Landscaping",
    "Wholesale",
    "Fabrication",
    "Marketing",
    "Property",
    "Cleaning",
    "Electrical",
    "Catering",
];
const UK_FORMS: &[&str] = &["Ltd", "Ltd", "Ltd", "LLP", "plc", "& Sons"];
const UK_CITIES: &[(&str, &str)] = &[
    ("London", "EC1"),
    ("Manchester", "M1"),
    ("Birmingham", "B1"),
    ("Leeds", "LS1"),
    ("Bristol", "BS1"),
    ("Glasgow", "G1"),
    ("Edinburgh", "EH1"),
    ("Liverpool", "L1"),
    ("Sheffield", "S1"),
    ("Cardiff", "CF10"),
    ("Nottingham", "NG1"),
    ("Leicester", "LE1"),
    ("Newcastle upon Tyne", "NE1"),
    ("Reading", "RG1"),
];
const UK_STREETS: &[&str] = &[
    "High Street",
    "Station Road",
    "Church Lane",
    "Victoria Road",
    "Mill Lane",
    "Park Road",
    "London Road",
    "Market Street",
    "King Street",
    "Queens Road",
    "Bridge Street",
    "The Green",
];

/// A foreign customer country: (ISO code, name, currency, city).
pub(crate) type Foreign = (&'static str, &'static str, &'static str, &'static str);
// Foreign-currency countries first, so even a small division gets a non-EUR customer.
const NL_FOREIGN: &[Foreign] = &[
    ("US", "Verenigde Staten", "USD", "New York"),
    ("BE", "België", "EUR", "Antwerpen"),
    ("GB", "Verenigd Koninkrijk", "GBP", "London"),
    ("DE", "Duitsland", "EUR", "Düsseldorf"),
];
const UK_FOREIGN: &[Foreign] = &[
    ("US", "United States", "USD", "Boston"),
    ("IE", "Ireland", "EUR", "Dublin"),
    ("NL", "Netherlands", "EUR", "Amsterdam"),
];

/// A product line: (item code, NL description, UK description, unit price in cents, rate class).
type Product = (&'static str, &'static str, &'static str, i64, Rate);
const PRODUCTS: &[Product] = &[
    (
        "CONS",
        "Advieswerkzaamheden (uur)",
        "Consultancy (hour)",
        9500,
        Rate::High,
    ),
    (
        "DEV",
        "Ontwikkeling (uur)",
        "Development (hour)",
        8500,
        Rate::High,
    ),
    (
        "LIC",
        "Softwarelicentie (maand)",
        "Software licence (month)",
        4900,
        Rate::High,
    ),
    ("INST", "Installatie", "Installation", 25000, Rate::High),
    (
        "MAINT",
        "Onderhoudscontract",
        "Maintenance contract",
        12000,
        Rate::High,
    ),
    (
        "TRAIN",
        "Training (dagdeel)",
        "Training (half day)",
        45000,
        Rate::High,
    ),
    ("HW", "Hardware", "Hardware", 74900, Rate::High),
    ("BOOK", "Handboeken", "Printed manuals", 2995, Rate::Low),
    (
        "CAT",
        "Catering",
        "Energy-saving materials",
        1850,
        Rate::Low,
    ),
    (
        "EXP",
        "Exportlevering",
        "Children's safety equipment",
        15000,
        Rate::Zero,
    ),
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    xs.choose(rng).unwrap_or(&xs[0])
}

/// A company name in the region's style.
pub(crate) fn company(rng: &mut ChaCha8Rng, region: Region) -> String {
    let (surnames, trades, forms) = match region {
        Region::Nl => (NL_SURNAMES, NL_TRADES, NL_FORMS),
        Region::Uk => (UK_SURNAMES, UK_TRADES, UK_FORMS),
    };
    let (s, t, f) = (pick(rng, surnames), pick(rng, trades), pick(rng, forms));
    let name = match region {
        Region::Nl if rng.gen_bool(0.5) => format!("{t} {s} {f}"),
        _ => format!("{s} {t} {f}"),
    };
    name.trim().to_owned()
}

/// A postal address in the region: (street line, city, postcode).
pub(crate) fn address(rng: &mut ChaCha8Rng, region: Region) -> (String, String, String) {
    match region {
        Region::Nl => {
            let (city, pc) = pick(rng, NL_CITIES);
            let street = format!("{} {}", pick(rng, NL_STREETS), rng.gen_range(1..220));
            let letters: String = (0..2)
                .map(|_| char::from(b'A' + rng.gen_range(0..26u8)))
                .collect();
            (
                street,
                (*city).to_owned(),
                format!("{pc}{:02} {letters}", rng.gen_range(10..99)),
            )
        }
        Region::Uk => {
            let (city, pc) = pick(rng, UK_CITIES);
            let street = format!("{} {}", rng.gen_range(1..180), pick(rng, UK_STREETS));
            let letters: String = (0..2)
                .map(|_| char::from(b'A' + rng.gen_range(0..26u8)))
                .collect();
            (
                street,
                (*city).to_owned(),
                format!("{pc} {}{letters}", rng.gen_range(1..9)),
            )
        }
    }
}

/// A phone number in the region's format.
pub(crate) fn phone(rng: &mut ChaCha8Rng, region: Region) -> String {
    match region {
        Region::Nl => format!(
            "+31 {} {:03} {:04}",
            rng.gen_range(10..80),
            rng.gen_range(100..999),
            rng.gen_range(0..9999)
        ),
        Region::Uk => format!(
            "+44 {} {:04} {:04}",
            rng.gen_range(20..29),
            rng.gen_range(1000..9999),
            rng.gen_range(0..9999)
        ),
    }
}

/// A VAT number for a relation in the region's format.
pub(crate) fn vat_number(rng: &mut ChaCha8Rng, country: &str) -> String {
    match country {
        "NL" => format!("NL{:09}B01", rng.gen_range(100_000_000..999_999_999u32)),
        "GB" => format!("GB{:09}", rng.gen_range(100_000_000..999_999_999u32)),
        "US" => String::new(),
        c => format!("{c}{:09}", rng.gen_range(100_000_000..999_999_999u32)),
    }
}

/// A chamber-of-commerce (KvK) or Companies House number.
pub(crate) fn chamber(rng: &mut ChaCha8Rng, region: Region) -> String {
    match region {
        Region::Nl => format!("{:08}", rng.gen_range(10_000_000..99_999_999u32)),
        Region::Uk => format!("{:08}", rng.gen_range(1_000_000..15_999_999u32)),
    }
}

/// The e-mail domain of a company name.
pub(crate) fn email(name: &str, country: &str) -> String {
    let slug: String = name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(24)
        .collect();
    let tld = match country {
        "GB" => "co.uk",
        "US" => "com",
        c => return format!("info@{slug}.{}", c.to_lowercase()),
    };
    format!("info@{slug}.{tld}")
}

/// Foreign customer countries of the region.
pub(crate) fn foreign(region: Region) -> &'static [Foreign] {
    match region {
        Region::Nl => NL_FOREIGN,
        Region::Uk => UK_FOREIGN,
    }
}

/// The home country (ISO code, name) of the region.
pub(crate) fn home(region: Region) -> (&'static str, &'static str) {
    match region {
        Region::Nl => ("NL", "Nederland"),
        Region::Uk => ("GB", "United Kingdom"),
    }
}

/// A random product: (item code, description, unit price cents, rate class).
pub(crate) fn product(
    rng: &mut ChaCha8Rng,
    region: Region,
) -> (&'static str, &'static str, i64, Rate) {
    let (code, nl, uk, price, rate) = *pick(rng, PRODUCTS);
    (
        code,
        if region == Region::Nl { nl } else { uk },
        price,
        rate,
    )
}

/// Month names for descriptions.
pub(crate) fn month(region: Region, m: u32) -> &'static str {
    const NL: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const UK: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let i = (m.clamp(1, 12) - 1) as usize;
    if region == Region::Nl { NL[i] } else { UK[i] }
}
