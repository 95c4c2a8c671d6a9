//! Reads what a module file declares public at its top level, for the exports tests of each
//! crate (`tests/exports.rs` here, and `runtime/`, `taskgroup/`, `timeouts/` include this
//! file with `#[path]`): adding, dropping or hiding a public item is then a deliberate
//! change to the test that lists it too.
//!
//! A name is what the item is called at that path: for `pub use a::{B, c as d}` it is `B`
//! and `d`. Items marked `#[doc(hidden)]` are listed with a `hidden ` prefix: hidden or not,
//! every public item must be sound under any call order (DESIGN.md section 3).

use std::collections::BTreeSet;

/// The public names that `source` (one file) declares at its top level.
pub fn declared(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut lines = source.lines().peekable();
    let mut hidden = false;
    let mut exported_macro = false;
    let mut in_cfg_test = false;
    while let Some(line) = lines.next() {
        if line.starts_with("#[cfg(test)]")
            || line.starts_with("#[cfg(all(test")
            || line.starts_with("#[cfg(doctest)]")
        {
            in_cfg_test = true;
            continue;
        }
        if line.starts_with("#[doc(hidden)]") {
            hidden = true;
            continue;
        }
        if line.starts_with("#[macro_export]") {
            exported_macro = true;
            continue;
        }
        if line.starts_with("#[") || line.starts_with("///") || line.starts_with("//") {
            continue;
        }
        let was_hidden = std::mem::take(&mut hidden);
        let was_cfg_test = std::mem::take(&mut in_cfg_test);
        let was_macro = std::mem::take(&mut exported_macro);
        if was_cfg_test {
            continue;
        }
        let mut add = |name: &str| {
            let name = name.trim();
            if name.is_empty() || name.starts_with("__") {
                return;
            }
            names.insert(if was_hidden {
                format!("hidden {name}")
            } else {
                name.to_string()
            });
        };
        if was_macro {
            if let Some(rest) = line.strip_prefix("macro_rules! ") {
                add(&format!("{}!", rest.trim_end_matches([' ', '{'])));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("pub use ") {
            let mut item = rest.to_string();
            while !item.contains(';') {
                item.push_str(lines.next().expect("a `pub use` ends with `;`"));
            }
            let item = item.trim_end_matches(';');
            let list = match item.split_once('{') {
                Some((_, list)) => list.trim_end_matches('}').to_string(),
                None => item.rsplit("::").next().unwrap().to_string(),
            };
            for name in list.split(',') {
                let name = name.trim();
                add(name.rsplit(" as ").next().unwrap());
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("pub ") else {
            continue;
        };
        let rest = rest
            .trim_start_matches("async ")
            .trim_start_matches("unsafe ")
            .trim_start_matches("const fn ");
        for kind in [
            "mod ", "fn ", "struct ", "enum ", "trait ", "type ", "const ", "static ",
        ] {
            if let Some(rest) = rest.strip_prefix(kind) {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                add(&rest[..end]);
            }
        }
    }
    names
}

/// Checks that the files of `module` (paths relative to the crate's root) declare exactly
/// `expected`; panics naming what was added and what is gone.
pub fn check(crate_dir: &str, module: &str, files: &[&str], expected: &[&str]) {
    let mut found = BTreeSet::new();
    for file in files {
        let path = format!("{crate_dir}/{file}");
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        found.extend(declared(&source));
    }
    let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "{module}'s public items changed: not listed in the exports test {extra:?}; listed but \
         gone {missing:?}"
    );
}
