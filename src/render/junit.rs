//! JUnit XML, as CI test reporters read it (Jenkins' xUnit schema `junit-10.xsd`, which
//! GitLab's `artifacts:reports:junit` and the GitHub test-report actions accept too):
//! `<testsuites>` of `<testsuite>`s of `<testcase>`s, each passing or with `<failure>`s.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::io::{self, Write};

/// One test case: passing unless it has failures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Case {
    pub classname: String,
    pub name: String,
    /// (message, details) of each failure.
    pub failures: Vec<(String, String)>,
    /// Notes shown with the case (a warning, a projection) without failing it.
    pub system_out: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Suite {
    pub name: String,
    pub cases: Vec<Case>,
}

impl Suite {
    /// Reporters count failing cases, not `<failure>` elements.
    pub fn failures(&self) -> usize {
        self.cases.iter().filter(|c| !c.failures.is_empty()).count()
    }
}

/// Text as XML 1.0 can hold it: the control characters it forbids (which a span name
/// from a hostile dump may have) become U+FFFD, so the document stays well-formed.
fn xml_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// An attribute value: XML readers turn a line break in one into a space, so it is
/// written as one (the full text goes in the element's content).
fn attr_text(s: &str) -> String {
    xml_text(s).replace(['\r', '\n'], " ")
}

pub fn write(name: &str, suites: &[Suite], out: &mut dyn Write) -> io::Result<()> {
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    w.create_element("testsuites")
        .with_attribute(("name", attr_text(name).as_str()))
        .with_attribute(("tests", tests.to_string().as_str()))
        .with_attribute(("failures", failures.to_string().as_str()))
        .with_attribute(("errors", "0"))
        .write_inner_content(|w| {
            for s in suites {
                write_suite(w, s)?;
            }
            Ok(())
        })?;
    let out = w.into_inner();
    out.write_all(b"\n")
}

fn write_suite<W: Write>(w: &mut Writer<W>, s: &Suite) -> io::Result<()> {
    let el = w
        .create_element("testsuite")
        .with_attribute(("name", attr_text(&s.name).as_str()))
        .with_attribute(("tests", s.cases.len().to_string().as_str()))
        .with_attribute(("failures", s.failures().to_string().as_str()))
        .with_attribute(("errors", "0"));
    if s.cases.is_empty() {
        el.write_empty()?;
        return Ok(());
    }
    el.write_inner_content(|w| {
        for c in &s.cases {
            let el = w
                .create_element("testcase")
                .with_attribute(("classname", attr_text(&c.classname).as_str()))
                .with_attribute(("name", attr_text(&c.name).as_str()));
            if c.failures.is_empty() && c.system_out.is_empty() {
                el.write_empty()?;
                continue;
            }
            el.write_inner_content(|w| {
                for (message, details) in &c.failures {
                    w.create_element("failure")
                        .with_attribute(("type", "budget"))
                        .with_attribute(("message", attr_text(message).as_str()))
                        .write_text_content(BytesText::new(&xml_text(details)))?;
                }
                if !c.system_out.is_empty() {
                    w.create_element("system-out")
                        .write_text_content(BytesText::new(&xml_text(&c.system_out.join("\n"))))?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_well_formed() {
        let suite = Suite {
            name: "a<b".into(),
            cases: vec![Case {
                classname: "r \"1\"".into(),
                name: "x\u{1}&y\nz".into(),
                failures: vec![("m<".into(), "d&".into())],
                system_out: vec![],
            }],
        };
        let mut out = Vec::new();
        write("t", &[suite], &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("name=\"x\u{FFFD}&amp;y z\""), "{s}");
        assert!(s.contains("failures=\"1\""), "{s}");
        assert!(s.contains("d&amp;"), "{s}");
    }
}
