//! Turns the shipped pricing tables (`pricing/*.toml`, one file per provider, as the
//! generator writes them) into a static table compiled into the binary: thousands of
//! entries parsed on every run would cost a small report more than the report itself.
//! A test checks the static table against the TOML parsed at run time, entry by entry.

use std::fmt::Write;
use toml::{Table, Value};

/// A price as `Decimal::from_parts`, exactly as written (`"0.125"`: 125 at scale 3).
fn decimal(v: &Value, at: &str) -> String {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        other => panic!("{at}: {other} is not a price"),
    };
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digits = format!("{int}{frac}");
    assert!(
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        "{at}: {text:?} is not a plain non-negative decimal"
    );
    let m: u128 = digits
        .parse()
        .unwrap_or_else(|_| panic!("{at}: {text:?} is too long"));
    assert!(
        m < 1 << 96 && frac.len() <= 28,
        "{at}: {text:?} does not fit a Decimal"
    );
    format!(
        "Some(Decimal::from_parts({}, {}, {}, false, {}))",
        m as u32,
        (m >> 32) as u32,
        (m >> 64) as u32,
        frac.len()
    )
}

const RATES: [&str; 9] = [
    "input",
    "cached_input",
    "cache_write_5m",
    "cache_write_1h",
    "output",
    "reasoning",
    "input_audio",
    "output_audio",
    "input_image",
];

fn rates(t: &Table, at: &str) -> String {
    let mut out = String::from("Rates { ");
    for k in RATES {
        let v = t
            .get(k)
            .map_or("None".to_string(), |v| decimal(v, &format!("{at}.{k}")));
        write!(out, "{k}: {v}, ").unwrap();
    }
    out.push('}');
    out
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => format!("Some({s:?})"),
        None => "None".into(),
        Some(other) => panic!("{other} is not text"),
    }
}

fn texts(v: Option<&Value>) -> String {
    let items: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| format!("{:?}", s.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    format!("&[{}]", items.join(", "))
}

fn model(m: &Table, at: &str) -> String {
    let id = m["id"].as_str().unwrap_or_else(|| panic!("{at}: no id"));
    let at = format!("{at} model {id:?}");
    let mut prices = Vec::new();
    for p in m["price"]
        .as_array()
        .unwrap_or_else(|| panic!("{at}: no price"))
    {
        let p = p.as_table().unwrap();
        let since = match p.get("since") {
            None => "None".to_string(),
            Some(v) => {
                let s = v.to_string();
                let s = s.trim_matches('"');
                let parts: Vec<u32> = s.split('-').map(|x| x.parse().unwrap()).collect();
                format!("Some(({}, {}, {}))", parts[0], parts[1], parts[2])
            }
        };
        let tiers: Vec<String> = p
            .get("tier")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        let t = t.as_table().unwrap();
                        format!(
                            "Tier {{ above_input_tokens: {}, rates: {} }}",
                            t["above_input_tokens"].as_integer().unwrap(),
                            rates(t, &at)
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let service: Vec<String> = p
            .get("service_tier")
            .and_then(Value::as_table)
            .map(|st| {
                st.iter()
                    .map(|(k, r)| format!("({k:?}, {})", rates(r.as_table().unwrap(), &at)))
                    .collect()
            })
            .unwrap_or_default();
        prices.push(format!(
            "StaticPrice {{ since: {since}, rates: {}, tiers: &[{}], service_tier: &[{}] }}",
            rates(p, &at),
            tiers.join(", "),
            service.join(", ")
        ));
    }
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    format!(
        "StaticModel {{ id: {id:?}, provider: {:?}, aliases: {}, patterns: {}, kind: {}, source: {:?}, litellm: {}, note: {}, prices: &[{}] }}",
        s("provider"),
        texts(m.get("aliases")),
        texts(m.get("patterns")),
        text(m.get("kind")),
        s("source"),
        text(m.get("litellm")),
        text(m.get("note")),
        prices.join(", ")
    )
}

fn main() {
    println!("cargo:rerun-if-changed=pricing");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("the pricing directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml") && n != "table.toml")
        .collect();
    names.sort();
    let mut out = String::from(
        "/// Every shipped table file, by name, in name order, as text and as entries.\npub static SHIPPED: &[(&str, &str, &[StaticModel])] = &[\n",
    );
    for n in &names {
        let path = dir.join(n);
        let body = std::fs::read_to_string(&path).unwrap();
        let table: Table = body.parse().unwrap_or_else(|e| panic!("pricing/{n}: {e}"));
        let models: Vec<String> = table
            .get("model")
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .map(|m| model(m.as_table().unwrap(), &format!("pricing/{n}")))
                    .collect()
            })
            .unwrap_or_default();
        // The text is included from this checkout's manifest directory when the crate
        // compiles, not from the path this script ran at: a target directory shared by
        // two checkouts would otherwise include the other one's files.
        writeln!(
            out,
            "    (\"pricing/{n}\", include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/pricing/{n}\")), &[\n        {}\n    ]),",
            models.join(",\n        ")
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("shipped.rs");
    std::fs::write(dest, out).unwrap();
}
