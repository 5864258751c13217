//! The demo shop's catalog: a few fixed products, so that orders have
//! something real to validate against.

use serde::Serialize;

/// One product.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Product {
    /// The stock-keeping unit, the id orders name.
    pub sku: &'static str,
    /// The product's name.
    pub name: &'static str,
    /// A one-line description.
    pub description: &'static str,
    /// The price in euro cents.
    pub price_cents: i64,
}

/// Everything the demo shop sells.
pub const CATALOG: [Product; 4] = [
    Product {
        sku: "tile-cobalt",
        name: "Cobalt tile",
        description: "A hand-glazed tessera in deep blue.",
        price_cents: 450,
    },
    Product {
        sku: "tile-saffron",
        name: "Saffron tile",
        description: "A warm yellow tessera with a matte finish.",
        price_cents: 420,
    },
    Product {
        sku: "mosaic-kit",
        name: "Mosaic starter kit",
        description: "Two hundred tesserae, grout and a wooden frame.",
        price_cents: 3900,
    },
    Product {
        sku: "nippers",
        name: "Wheeled nippers",
        description: "Cuts glass and ceramic tesserae cleanly.",
        price_cents: 1850,
    },
];

/// The product with this SKU.
pub fn product(sku: &str) -> Option<&'static Product> {
    CATALOG.iter().find(|product| product.sku == sku)
}

/// A price in euros for people, e.g. `€4.50`.
pub fn format_price(cents: i64) -> String {
    format!("€{}.{:02}", cents / 100, cents % 100)
}
