//! Any bytes as a body `traces record` receives: the check it runs before answering
//! (decode_body), and Langfuse batches split into events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traces::ingest::decode_body;

fuzz_target!(|data: &[u8]| {
    let _ = decode_body(data, "received");
    if let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice::<serde_json::Value>(data)
        && let Some(serde_json::Value::Array(events)) = doc.get("batch")
    {
        for e in events {
            let _ = decode_body(&serde_json::to_vec(e).unwrap_or_default(), "event");
        }
    }
});
