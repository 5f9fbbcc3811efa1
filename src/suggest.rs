//! "Did you mean …?" for values clap cannot check itself (group keys, sort columns).

/// The candidate a mistyped `input` most likely meant, if one is close enough; the same
/// measure and threshold clap uses for its own value lists.
pub fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro(input, c), *c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `cannot group by "sesion": did you mean session? (trace, session, …)`.
pub fn unknown(what: &str, input: &str, candidates: &[&str]) -> String {
    let hint = closest(input, candidates)
        .map(|c| format!(": did you mean {c}?"))
        .unwrap_or_default();
    format!("{what} {input:?}{hint} (one of {})", candidates.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_suggested_and_far_ones_not() {
        let c = ["trace", "session", "user", "model"];
        assert_eq!(closest("sesion", &c), Some("session"));
        assert_eq!(closest("modle", &c), Some("model"));
        assert_eq!(closest("xyz", &c), None);
        assert_eq!(
            unknown("cannot group by", "sesion", &c),
            "cannot group by \"sesion\": did you mean session? (one of trace, session, user, model)"
        );
    }
}
