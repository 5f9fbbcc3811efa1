//! Messages in the shapes producers record them, converted to one model: GenAI parts
//! JSON, OpenAI Chat and Responses payloads (what Langfuse, `input.value`, OpenLLMetry
//! content lists and per-message events carry), and the AI SDK prompt format. Media are
//! summarized (type, size), never kept.

use super::model::{Message, Part, joined_text};
use serde_json::Value;

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `data:image/png;base64,…` → media type and decoded size; other URLs are kept.
pub fn media_from_url(url: &str) -> Part {
    // Langfuse uploads media and leaves a token in its place:
    // `@@@langfuseMedia:type=image/png|id=…|source=base64_data_uri@@@`.
    if let Some(token) = url
        .strip_prefix("@@@langfuseMedia:")
        .and_then(|t| t.strip_suffix("@@@"))
    {
        return Part::Media {
            media_type: token
                .split('|')
                .find_map(|kv| kv.strip_prefix("type="))
                .map(String::from),
            bytes: None,
            uri: None,
        };
    }
    if let Some(rest) = url.strip_prefix("data:")
        && let Some((meta, data)) = rest.split_once(',')
    {
        let media_type = meta
            .split(';')
            .next()
            .filter(|m| !m.is_empty())
            .map(String::from);
        let bytes = if meta.ends_with(";base64") {
            base64_len(data)
        } else {
            data.len() as u64
        };
        return Part::Media {
            media_type,
            bytes: Some(bytes),
            uri: None,
        };
    }
    Part::Media {
        media_type: None,
        bytes: None,
        uri: (!url.is_empty()).then(|| url.to_string()),
    }
}

pub fn base64_len(data: &str) -> u64 {
    let d = data.trim();
    let pad = d.bytes().rev().take_while(|b| *b == b'=').count() as u64;
    (d.len() as u64 / 4) * 3 - pad.min(2)
}

/// GenAI conventions message parts (`gen_ai.input.messages`, `gen_ai.output.messages`).
pub fn genai_parts(parts: &Value) -> Vec<Part> {
    let Some(items) = parts.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|p| {
            let t = p.get("type").and_then(Value::as_str).unwrap_or("text");
            Some(match t {
                "text" => Part::Text {
                    text: text_of(p.get("content").unwrap_or(&Value::Null)),
                },
                "reasoning" | "thinking" => Part::Reasoning {
                    text: text_of(p.get("content").unwrap_or(&Value::Null)),
                },
                "tool_call" => Part::ToolCall {
                    id: p.get("id").and_then(Value::as_str).map(String::from),
                    name: text_of(p.get("name").unwrap_or(&Value::Null)),
                    arguments: args_text(p.get("arguments")),
                },
                "tool_call_response" => Part::ToolResult {
                    tool_call_id: p.get("id").and_then(Value::as_str).map(String::from),
                    content: text_of(
                        p.get("response")
                            .or_else(|| p.get("result"))
                            .unwrap_or(&Value::Null),
                    ),
                },
                "blob" => Part::Media {
                    media_type: p.get("mime_type").and_then(Value::as_str).map(String::from),
                    bytes: p.get("content").and_then(Value::as_str).map(base64_len),
                    uri: None,
                },
                // Some producers put the image itself in a `uri` part, as a data URI.
                "uri"
                    if p.get("uri")
                        .and_then(Value::as_str)
                        .is_some_and(|u| u.starts_with("data:")) =>
                {
                    match media_from_url(p["uri"].as_str().unwrap_or_default()) {
                        Part::Media {
                            media_type,
                            bytes,
                            uri,
                        } => Part::Media {
                            media_type: media_type.or_else(|| {
                                p.get("mime_type").and_then(Value::as_str).map(String::from)
                            }),
                            bytes,
                            uri,
                        },
                        other => other,
                    }
                }
                "uri" | "file" | "image" => Part::Media {
                    media_type: p.get("mime_type").and_then(Value::as_str).map(String::from),
                    bytes: None,
                    uri: p
                        .get("uri")
                        .or_else(|| p.get("file_id"))
                        .and_then(Value::as_str)
                        .map(String::from),
                },
                _ => return None,
            })
        })
        .collect()
}

pub fn genai_messages(v: &Value) -> Vec<Message> {
    let Some(items) = v.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .map(|m| Message {
            role: m
                .get("role")
                .and_then(Value::as_str)
                .unwrap_or("assistant")
                .to_string(),
            parts: genai_parts(m.get("parts").unwrap_or(&Value::Null)),
            finish_reason: m
                .get("finish_reason")
                .and_then(Value::as_str)
                .map(String::from),
        })
        .collect()
}

fn args_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// OpenAI-style content: a string, or a list of typed parts (Chat `text`/`image_url`,
/// Responses `input_text`/`output_text`/`input_image`, Anthropic `text`/`image`/
/// `tool_use`/`tool_result`, Bedrock `{"text"}`/`{"image"}`).
pub fn openai_content(v: &Value) -> Vec<Part> {
    match v {
        Value::Null => Vec::new(),
        Value::String(s) => vec![Part::Text { text: s.clone() }],
        Value::Array(items) => items.iter().filter_map(openai_part).collect(),
        other => vec![Part::Text {
            text: other.to_string(),
        }],
    }
}

fn openai_part(p: &Value) -> Option<Part> {
    if let Value::String(s) = p {
        return Some(Part::Text { text: s.clone() });
    }
    let t = p.get("type").and_then(Value::as_str).unwrap_or("");
    Some(match t {
        "text" | "input_text" | "output_text" => Part::Text {
            text: text_of(p.get("text").unwrap_or(&Value::Null)),
        },
        "refusal" => Part::Text {
            text: text_of(p.get("refusal").unwrap_or(&Value::Null)),
        },
        "reasoning" | "thinking" => Part::Reasoning {
            text: text_of(
                p.get("text")
                    .or_else(|| p.get("thinking"))
                    .unwrap_or(&Value::Null),
            ),
        },
        "image_url" => {
            let url = p
                .get("image_url")
                .map(|u| u.get("url").unwrap_or(u))
                .and_then(Value::as_str)
                .unwrap_or("");
            media_from_url(url)
        }
        "input_image" => media_from_url(p.get("image_url").and_then(Value::as_str).unwrap_or("")),
        "image" => match p.get("source") {
            Some(src) if src.get("type").and_then(Value::as_str) == Some("base64") => Part::Media {
                media_type: src
                    .get("media_type")
                    .and_then(Value::as_str)
                    .map(String::from),
                bytes: src.get("data").and_then(Value::as_str).map(base64_len),
                uri: None,
            },
            Some(src) => media_from_url(src.get("url").and_then(Value::as_str).unwrap_or("")),
            None => media_from_url(
                p.get("url")
                    .or_else(|| p.get("image"))
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            ),
        },
        // A Responses function call's `id` names the item; its `call_id` is what the
        // output answers.
        "tool_use" | "function_call" | "tool-call" => Part::ToolCall {
            id: p
                .get("call_id")
                .or_else(|| p.get("id"))
                .or_else(|| p.get("toolCallId"))
                .and_then(Value::as_str)
                .map(String::from),
            name: text_of(
                p.get("name")
                    .or_else(|| p.get("toolName"))
                    .unwrap_or(&Value::Null),
            ),
            arguments: args_text(
                p.get("input")
                    .or_else(|| p.get("arguments"))
                    .or_else(|| p.get("args")),
            ),
        },
        "tool_result" | "function_call_output" | "tool-result" => Part::ToolResult {
            tool_call_id: p
                .get("tool_use_id")
                .or_else(|| p.get("call_id"))
                .or_else(|| p.get("toolCallId"))
                .and_then(Value::as_str)
                .map(String::from),
            content: text_of(
                p.get("content")
                    .or_else(|| p.get("output"))
                    .or_else(|| p.get("result"))
                    .unwrap_or(&Value::Null),
            ),
        },
        "file" => Part::Media {
            media_type: p
                .get("mediaType")
                .or_else(|| p.get("mimeType"))
                .and_then(Value::as_str)
                .map(String::from),
            bytes: p.get("data").and_then(Value::as_str).map(base64_len),
            uri: None,
        },
        "" if p.get("text").is_some() => Part::Text {
            text: text_of(&p["text"]),
        },
        "" if p.get("image").is_some() => Part::Media {
            media_type: p["image"]
                .get("format")
                .and_then(Value::as_str)
                .map(|f| format!("image/{f}")),
            bytes: p["image"]
                .get("source")
                .and_then(|s| s.get("bytes"))
                .and_then(Value::as_str)
                .map(base64_len),
            uri: None,
        },
        _ => return None,
    })
}

/// One OpenAI Chat message (or an item of a Responses `input`/`output`).
pub fn openai_message(m: &Value) -> Option<Message> {
    if let Value::String(s) = m {
        return Some(Message::text("user", s.clone()));
    }
    let item_type = m.get("type").and_then(Value::as_str).unwrap_or("message");
    match item_type {
        "function_call" => {
            return Some(Message {
                role: "assistant".into(),
                parts: openai_part(m).into_iter().collect(),
                finish_reason: None,
            });
        }
        "function_call_output" => {
            return Some(Message {
                role: "tool".into(),
                parts: openai_part(m).into_iter().collect(),
                finish_reason: None,
            });
        }
        "message" => {}
        // reasoning summaries and other item kinds are not messages
        _ => return None,
    }
    let role = m
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("assistant")
        .to_string();
    let mut parts = openai_content(m.get("content").unwrap_or(&Value::Null));
    // LangChain messages (as Langfuse's handler records them) keep the calls in
    // `additional_kwargs`.
    let calls = m
        .get("tool_calls")
        .or_else(|| m.get("additional_kwargs").and_then(|k| k.get("tool_calls")));
    if let Some(calls) = calls.and_then(Value::as_array) {
        for c in calls {
            let f = c.get("function").unwrap_or(c);
            parts.push(Part::ToolCall {
                id: c.get("id").and_then(Value::as_str).map(String::from),
                name: text_of(f.get("name").unwrap_or(&Value::Null)),
                arguments: args_text(f.get("arguments")),
            });
        }
    }
    if role == "tool" || role == "function" {
        let id = m
            .get("tool_call_id")
            .or_else(|| m.get("id"))
            .and_then(Value::as_str)
            .map(String::from);
        let content = joined_text(&parts);
        parts = vec![Part::ToolResult {
            tool_call_id: id,
            content,
        }];
    }
    Some(Message {
        role,
        parts,
        finish_reason: m
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(String::from),
    })
}

/// A list of OpenAI messages or Responses items; a request object's `messages` or
/// `input`; a response object's `choices` or `output`.
pub fn openai_messages(v: &Value) -> Vec<Message> {
    match v {
        Value::Array(items) => items.iter().filter_map(openai_message).collect(),
        Value::String(s) => vec![Message::text("user", s.clone())],
        Value::Object(o) => {
            if let Some(m) = o.get("messages") {
                return openai_messages(m);
            }
            if let Some(choices) = o.get("choices").and_then(Value::as_array) {
                return choices
                    .iter()
                    .filter_map(|c| {
                        let mut m = openai_message(c.get("message").unwrap_or(c))?;
                        m.finish_reason = c
                            .get("finish_reason")
                            .and_then(Value::as_str)
                            .map(String::from);
                        Some(m)
                    })
                    .collect();
            }
            if let Some(out) = o.get("output").filter(|v| v.is_array()) {
                return openai_messages(out);
            }
            if let Some(input) = o.get("input") {
                return openai_messages(input);
            }
            // A message, or one Responses item on its own (Langfuse's output of a call
            // that only called a function).
            if o.contains_key("role")
                || matches!(
                    o.get("type").and_then(Value::as_str),
                    Some("function_call" | "function_call_output" | "message")
                )
            {
                return openai_message(v).into_iter().collect();
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn images_are_summarized() {
        let p = media_from_url("data:image/png;base64,iVBORw0KGgo=");
        assert_eq!(
            p,
            Part::Media {
                media_type: Some("image/png".into()),
                bytes: Some(8),
                uri: None
            }
        );
    }

    #[test]
    fn chat_tool_round_trip() {
        let msgs = openai_messages(&json!([
            {"role": "user", "content": [{"type": "text", "text": "weather?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
        ]));
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0].parts.len(), 2);
        assert!(
            matches!(&msgs[1].parts[0], Part::ToolCall { id: Some(i), name, .. } if i == "call_1" && name == "get_weather")
        );
        assert!(
            matches!(&msgs[2].parts[0], Part::ToolResult { tool_call_id: Some(i), content } if i == "call_1" && content == "sunny")
        );
    }

    #[test]
    fn responses_items() {
        let msgs = openai_messages(&json!({"output": [
            {"type": "reasoning", "summary": []},
            {"type": "function_call", "call_id": "call_9", "name": "lookup", "arguments": "{}"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "hi"}]}
        ]}));
        assert_eq!(msgs.len(), 2);
        assert!(matches!(&msgs[0].parts[0], Part::ToolCall { id: Some(i), .. } if i == "call_9"));
    }
}
