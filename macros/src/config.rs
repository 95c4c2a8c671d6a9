//! The attribute's options: parsing, validation, and the errors that guide a user to a
//! working attribute.
//!
//! Options are `key = value` pairs separated by commas. [`Config::parse`] reads them in
//! order, in two passes:
//!
//! 1. each option on its own: the key must be one the entry point knows (else: the list
//!    of valid keys, with a suggestion for a near miss), must not repeat, and its value
//!    must have the right shape (a string flavor from the list, an integer
//!    `worker_threads` of at least 1, a bool `start_paused`, a `u64` `seed`);
//! 2. the options together: `worker_threads` needs the multi-thread flavor, and
//!    `start_paused = true` and `seed` the current-thread one.
//!
//! Every problem becomes a `syn::Error` spanned at the offending token (the key, the
//! value, or the whole option), and all of them are reported at once.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitInt, Meta, MetaNameValue, Token};

/// Which entry point an attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `#[arbor::main]`.
    Main,
    /// `#[arbor::test]`.
    Test,
}

impl Entry {
    /// The attribute as a user writes it, for messages.
    pub(crate) fn attr(self) -> &'static str {
        match self {
            Entry::Main => "#[arbor::main]",
            Entry::Test => "#[arbor::test]",
        }
    }

    /// The flavor used when the attribute names none: a program gets the work-stealing
    /// runtime, a test the deterministic single-threaded one.
    fn default_flavor(self) -> Flavor {
        match self {
            Entry::Main => Flavor::MultiThread,
            Entry::Test => Flavor::CurrentThread,
        }
    }

    /// The option keys this entry point accepts, in the order the docs list them.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Entry::Main => &[FLAVOR, WORKER_THREADS],
            Entry::Test => &[FLAVOR, WORKER_THREADS, START_PAUSED, SEED],
        }
    }
}

const FLAVOR: &str = "flavor";
const WORKER_THREADS: &str = "worker_threads";
const START_PAUSED: &str = "start_paused";
const SEED: &str = "seed";

/// The flavors, as the `flavor` option spells them.
const FLAVORS: [(&str, Flavor); 2] = [
    ("multi_thread", Flavor::MultiThread),
    ("current_thread", Flavor::CurrentThread),
];

/// Keys people write for one of ours that are too far from it for an edit-distance
/// suggestion (short forms, other runtimes' names), and the key they mean.
const KEY_ALIASES: [(&str, &str); 10] = [
    ("workers", WORKER_THREADS),
    ("threads", WORKER_THREADS),
    ("core_threads", WORKER_THREADS),
    ("num_threads", WORKER_THREADS),
    ("num_workers", WORKER_THREADS),
    ("paused", START_PAUSED),
    ("pause", START_PAUSED),
    ("runtime", FLAVOR),
    ("rng_seed", SEED),
    ("arbor_seed", SEED),
];

/// The most single-character edits between a misspelled key or flavor and the one a
/// "did you mean" suggests; further apart, no suggestion is made.
const MAX_SUGGESTION_DISTANCE: usize = 2;

/// A runtime flavor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_multi_thread()`: work-stealing workers.
    MultiThread,
    /// `Builder::new_current_thread()`: every task on the thread that calls `block_on`.
    CurrentThread,
}

/// The validated options of one attribute.
#[derive(Clone)]
pub(crate) struct Config {
    /// Which runtime to build.
    pub(crate) flavor: Flavor,
    /// `worker_threads = N`: the literal as written (its span points errors at it); only
    /// ever set with the multi-thread flavor, and at least 1.
    pub(crate) worker_threads: Option<LitInt>,
    /// `start_paused = true`: the span of its key, so that the generated builder call
    /// is attributed to it; only ever set with the current-thread flavor.
    pub(crate) start_paused: Option<Span>,
    /// `seed = N`: the seed and the span of the option; only ever set with the
    /// current-thread flavor.
    pub(crate) seed: Option<(u64, Span)>,
}

impl std::fmt::Debug for Config {
    // By hand: syn's literals implement `Debug` only with its `extra-traits` feature.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("flavor", &self.flavor)
            .field(
                "worker_threads",
                &self.worker_threads.as_ref().map(LitInt::to_string),
            )
            .field("start_paused", &self.start_paused.is_some())
            .field("seed", &self.seed.map(|(seed, _)| seed))
            .finish()
    }
}

impl Config {
    /// What an attribute without options means.
    pub(crate) fn default_for(entry: Entry) -> Config {
        Config {
            flavor: entry.default_flavor(),
            worker_threads: None,
            start_paused: None,
            seed: None,
        }
    }

    /// Parses and validates the options of `entry`'s attribute.
    pub(crate) fn parse(entry: Entry, args: TokenStream) -> syn::Result<Config> {
        let options = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
        let mut errors = Errors::default();
        let mut flavor: Option<(Flavor, &Meta)> = None;
        let mut worker_threads: Option<(LitInt, &Meta)> = None;
        let mut start_paused: Option<(bool, &Meta)> = None;
        let mut seed: Option<(u64, &Meta)> = None;
        let mut seen: Vec<String> = Vec::new();

        // Pass 1: each option on its own.
        for option in &options {
            let Some(key) = option.path().get_ident() else {
                errors.push(unknown_key(entry, option.path(), &path_text(option.path())));
                continue;
            };
            let name = key.to_string();
            if !entry.keys().contains(&name.as_str()) {
                errors.push(unknown_key(entry, key, &name));
                continue;
            }
            if seen.contains(&name) {
                errors.push(syn::Error::new_spanned(
                    key,
                    format!("duplicate option `{name}`: give each option once"),
                ));
                continue;
            }
            seen.push(name.clone());
            let value = match option_value(option, &name) {
                Ok(value) => value,
                Err(err) => {
                    errors.push(err);
                    continue;
                }
            };
            let parsed = match name.as_str() {
                FLAVOR => parse_flavor(value).map(|f| flavor = Some((f, option))),
                WORKER_THREADS => {
                    parse_worker_threads(value).map(|n| worker_threads = Some((n, option)))
                }
                START_PAUSED => parse_start_paused(value).map(|b| start_paused = Some((b, option))),
                SEED => parse_seed(value).map(|n| seed = Some((n, option))),
                _ => unreachable!("`{name}` is in `Entry::keys` but has no parser"),
            };
            if let Err(err) = parsed {
                errors.push(err);
            }
        }

        // Pass 2: the options together.
        let resolved = flavor.map_or(entry.default_flavor(), |(f, _)| f);
        if let (Some((_, option)), Flavor::CurrentThread) = (&worker_threads, resolved) {
            let msg = if flavor.is_some() {
                "`worker_threads` does not apply to the current-thread runtime, which runs \
                 every task on the calling thread: remove it, or use \
                 `flavor = \"multi_thread\"`"
                    .to_string()
            } else {
                format!(
                    "`worker_threads` needs the multi-thread runtime, and `{}` uses the \
                     current-thread runtime by default: add `flavor = \"multi_thread\"`",
                    entry.attr()
                )
            };
            errors.push(syn::Error::new_spanned(option.path(), msg));
        }
        if let (Some((true, option)), Flavor::MultiThread) = (&start_paused, resolved) {
            errors.push(syn::Error::new_spanned(
                option,
                "`start_paused = true` needs the current-thread runtime (paused time jumps \
                 ahead only when the runtime's one thread is idle): remove \
                 `flavor = \"multi_thread\"`, or remove `start_paused`",
            ));
        }

        if let (Some((_, option)), Flavor::MultiThread) = (&seed, resolved) {
            errors.push(syn::Error::new_spanned(
                option,
                "`seed` needs the current-thread runtime (the order of a multi-thread \
                 runtime depends on its threads): remove `flavor = \"multi_thread\"`, or \
                 remove `seed`",
            ));
        }

        errors.finish()?;
        Ok(Config {
            flavor: resolved,
            worker_threads: worker_threads.map(|(n, _)| n),
            start_paused: start_paused
                .filter(|(paused, _)| *paused)
                .map(|(_, option)| syn::spanned::Spanned::span(option.path())),
            seed: seed.map(|(n, option)| (n, syn::spanned::Spanned::span(option.path()))),
        })
    }
}

/// Collects errors so that one compile reports every problem.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error.
    pub(crate) fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    /// `Err` with every error pushed, or `Ok` if there were none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The value of a `key = value` option, or an error showing the `key = value` form.
fn option_value<'a>(option: &'a Meta, key: &str) -> syn::Result<&'a Expr> {
    match option {
        Meta::NameValue(MetaNameValue { value, .. }) => Ok(value),
        Meta::Path(_) | Meta::List(_) => Err(syn::Error::new_spanned(
            option,
            format!("`{key}` needs a value: write `{}`", example(key)),
        )),
    }
}

/// How to write `key` with a typical value.
fn example(key: &str) -> &'static str {
    match key {
        FLAVOR => "flavor = \"multi_thread\"` or `flavor = \"current_thread\"",
        WORKER_THREADS => "worker_threads = 4",
        SEED => "seed = 42",
        _ => "start_paused = true",
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    let expected = "`flavor` is \"multi_thread\" or \"current_thread\"";
    let text = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.value(),
        // `flavor = multi_thread`: right word, missing quotes.
        Expr::Path(path)
            if path
                .path
                .get_ident()
                .is_some_and(|id| flavor_named(&id.to_string()).is_some()) =>
        {
            let word = path_text(&path.path);
            return Err(syn::Error::new_spanned(
                value,
                format!("the flavor is a string: write `flavor = \"{word}\"`"),
            ));
        }
        _ => {
            return Err(syn::Error::new_spanned(
                value,
                format!("{expected} (a string)"),
            ));
        }
    };
    if let Some(flavor) = flavor_named(&text) {
        return Ok(flavor);
    }
    let mut msg = format!("unknown flavor \"{text}\": {expected}");
    let normalized = text.to_ascii_lowercase().replace(['-', ' '], "_");
    let close = FLAVORS.iter().map(|(name, _)| *name).find(|name| {
        *name == normalized.as_str()
            || *name == normalized.replace('_', "")
            || edit_distance(name, &normalized) <= MAX_SUGGESTION_DISTANCE
    });
    if let Some(name) = close {
        msg.push_str(&format!("; did you mean \"{name}\"?"));
    }
    Err(syn::Error::new_spanned(value, msg))
}

/// The flavor spelled `name`, if any.
fn flavor_named(name: &str) -> Option<Flavor> {
    FLAVORS
        .iter()
        .find(|(spelling, _)| *spelling == name)
        .map(|(_, flavor)| *flavor)
}

fn parse_worker_threads(value: &Expr) -> syn::Result<LitInt> {
    let lit = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit,
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if s.value().parse::<usize>().is_ok() => {
            return Err(syn::Error::new_spanned(
                value,
                format!(
                    "`worker_threads` is a number: write `worker_threads = {}`",
                    s.value()
                ),
            ));
        }
        _ => {
            return Err(syn::Error::new_spanned(
                value,
                "`worker_threads` takes an integer literal, such as `worker_threads = 4`",
            ));
        }
    };
    if !matches!(lit.suffix(), "" | "usize") {
        return Err(syn::Error::new_spanned(
            lit,
            format!(
                "`worker_threads` is a `usize`: write it without the `{}` suffix",
                lit.suffix()
            ),
        ));
    }
    let n: usize = lit.base10_parse()?;
    if n == 0 {
        return Err(syn::Error::new_spanned(
            lit,
            "`worker_threads` must be at least 1; to run everything on one thread, use \
             `flavor = \"current_thread\"`",
        ));
    }
    Ok(lit.clone())
}

fn parse_seed(value: &Expr) -> syn::Result<u64> {
    let lit = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit,
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if s.value().parse::<u64>().is_ok() => {
            return Err(syn::Error::new_spanned(
                value,
                format!("`seed` is a number: write `seed = {}`", s.value()),
            ));
        }
        _ => {
            return Err(syn::Error::new_spanned(
                value,
                "`seed` takes an integer literal from 0 to u64::MAX, such as `seed = 42` (the \
                 number a failed test printed)",
            ));
        }
    };
    if !matches!(lit.suffix(), "" | "u64") {
        return Err(syn::Error::new_spanned(
            lit,
            format!(
                "`seed` is a `u64`: write it without the `{}` suffix",
                lit.suffix()
            ),
        ));
    }
    if lit.base10_digits().starts_with('-') {
        return Err(syn::Error::new_spanned(
            lit,
            "`seed` takes an integer literal from 0 to u64::MAX, such as `seed = 42`",
        ));
    }
    lit.base10_parse::<u64>().map_err(|_| {
        syn::Error::new_spanned(lit, "`seed` is a `u64`: at most 18446744073709551615")
    })
}

fn parse_start_paused(value: &Expr) -> syn::Result<bool> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if matches!(s.value().as_str(), "true" | "false") => Err(syn::Error::new_spanned(
            value,
            format!(
                "`start_paused` is a bool: write `start_paused = {}`",
                s.value()
            ),
        )),
        _ => Err(syn::Error::new_spanned(
            value,
            "`start_paused` is `true` or `false`",
        )),
    }
}

/// The error for a key `entry` does not know: the valid keys, and a suggestion when the
/// key is close to one of them.
fn unknown_key(entry: Entry, tokens: impl quote::ToTokens, key: &str) -> syn::Error {
    let keys = entry.keys();
    let list = keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut msg = format!(
        "unknown option `{key}` for `{}`; the options are {list}",
        entry.attr()
    );
    if entry == Entry::Main && (key == START_PAUSED || key == SEED) {
        msg.push_str(&format!(" (`{key}` is an option of `#[arbor::test]`)"));
    } else if let Some(suggestion) = suggest(key, keys) {
        msg.push_str(&format!("; did you mean `{suggestion}`?"));
    }
    syn::Error::new_spanned(tokens, msg)
}

/// The valid key a user probably meant by `key`.
fn suggest(key: &str, keys: &[&'static str]) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase();
    KEY_ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map(|(_, meant)| *meant)
        .filter(|meant| keys.contains(meant))
        .or_else(|| {
            keys.iter()
                .map(|k| (edit_distance(k, &lower), *k))
                .filter(|(d, _)| *d <= MAX_SUGGESTION_DISTANCE)
                .min()
                .map(|(_, k)| k)
        })
}

/// `a::b::c` as written.
fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|seg| seg.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// Levenshtein distance between two short ASCII strings (keys and flavors).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    // `row[j]`: the distance between the prefix of `a` read so far and `b[..j]`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(entry: Entry, args: TokenStream) -> syn::Result<Config> {
        Config::parse(entry, args)
    }

    fn err(entry: Entry, args: TokenStream) -> String {
        parse(entry, args)
            .expect_err("the options should be rejected")
            .to_string()
    }

    #[test]
    fn defaults_per_entry_point() {
        let main = parse(Entry::Main, quote!()).unwrap();
        assert_eq!(main.flavor, Flavor::MultiThread);
        assert!(main.worker_threads.is_none() && main.start_paused.is_none());
        let test = parse(Entry::Test, quote!()).unwrap();
        assert_eq!(test.flavor, Flavor::CurrentThread);
    }

    #[test]
    fn every_option_is_read() {
        let c = parse(
            Entry::Main,
            quote!(flavor = "multi_thread", worker_threads = 3,),
        )
        .unwrap();
        assert_eq!(c.flavor, Flavor::MultiThread);
        assert_eq!(
            c.worker_threads.unwrap().base10_parse::<usize>().unwrap(),
            3
        );
        let c = parse(Entry::Test, quote!(start_paused = true)).unwrap();
        assert_eq!(c.flavor, Flavor::CurrentThread);
        assert!(c.start_paused.is_some());
        let c = parse(
            Entry::Test,
            quote!(flavor = "multi_thread", start_paused = false),
        )
        .unwrap();
        assert!(
            c.start_paused.is_none(),
            "start_paused = false is the default"
        );
        let c = parse(Entry::Main, quote!(flavor = "current_thread")).unwrap();
        assert_eq!(c.flavor, Flavor::CurrentThread);
    }

    #[test]
    fn seed_is_a_u64_on_the_current_thread_runtime() {
        let c = parse(Entry::Test, quote!(seed = 18446744073709551615)).unwrap();
        assert_eq!(c.seed.map(|(n, _)| n), Some(u64::MAX));
        let c = parse(Entry::Test, quote!(seed = 0u64, start_paused = true)).unwrap();
        assert_eq!(c.seed.map(|(n, _)| n), Some(0));
        assert!(parse(Entry::Test, quote!()).unwrap().seed.is_none());
        let msg = err(Entry::Test, quote!(seed = "42"));
        assert!(msg.contains("write `seed = 42`"), "{msg}");
        let msg = err(Entry::Test, quote!(seed = -1));
        assert!(msg.contains("integer literal from 0 to u64::MAX"), "{msg}");
        let msg = err(Entry::Test, quote!(seed = 18446744073709551616));
        assert!(msg.contains("at most 18446744073709551615"), "{msg}");
        let msg = err(Entry::Test, quote!(seed = 4u8));
        assert!(msg.contains("without the `u8` suffix"), "{msg}");
        let msg = err(Entry::Test, quote!(flavor = "multi_thread", seed = 4));
        assert!(
            msg.contains("`seed` needs the current-thread runtime"),
            "{msg}"
        );
        let msg = err(Entry::Main, quote!(seed = 4));
        assert!(
            msg.contains("`seed` is an option of `#[arbor::test]`"),
            "{msg}"
        );
        let msg = err(Entry::Test, quote!(rng_seed = 4));
        assert!(msg.contains("did you mean `seed`?"), "{msg}");
    }

    #[test]
    fn unknown_keys_list_the_valid_ones_and_suggest() {
        let msg = err(Entry::Main, quote!(workers = 4));
        assert!(msg.contains("`flavor`, `worker_threads`"), "{msg}");
        assert!(msg.contains("did you mean `worker_threads`?"), "{msg}");
        let msg = err(Entry::Test, quote!(flavour = "current_thread"));
        assert!(msg.contains("did you mean `flavor`?"), "{msg}");
        let msg = err(Entry::Main, quote!(start_paused = true));
        assert!(msg.contains("option of `#[arbor::test]`"), "{msg}");
        let msg = err(Entry::Main, quote!(zzz = 1));
        assert!(!msg.contains("did you mean"), "{msg}");
        let msg = err(Entry::Main, quote!(a::flavor = "x"));
        assert!(msg.contains("unknown option `a::flavor`"), "{msg}");
    }

    #[test]
    fn bad_values_say_what_to_write() {
        assert!(
            err(Entry::Main, quote!(flavor = "multi-thread"))
                .contains("did you mean \"multi_thread\"?")
        );
        assert!(err(Entry::Main, quote!(flavor = "foo")).contains("unknown flavor \"foo\""));
        assert!(
            err(Entry::Main, quote!(flavor = current_thread))
                .contains("`flavor = \"current_thread\"`")
        );
        assert!(err(Entry::Main, quote!(worker_threads = 0)).contains("at least 1"));
        assert!(err(Entry::Main, quote!(worker_threads = "4")).contains("`worker_threads = 4`"));
        assert!(err(Entry::Main, quote!(worker_threads = 2.5)).contains("integer literal"));
        assert!(err(Entry::Main, quote!(worker_threads = 4u8)).contains("suffix"));
        assert!(err(Entry::Test, quote!(start_paused = "true")).contains("`start_paused = true`"));
        assert!(err(Entry::Test, quote!(start_paused)).contains("needs a value"));
        assert!(err(Entry::Main, quote!(flavor("x"))).contains("needs a value"));
    }

    #[test]
    fn options_that_contradict_each_other() {
        let msg = err(
            Entry::Main,
            quote!(flavor = "current_thread", worker_threads = 2),
        );
        assert!(
            msg.contains("does not apply to the current-thread runtime"),
            "{msg}"
        );
        let msg = err(Entry::Test, quote!(worker_threads = 2));
        assert!(msg.contains("add `flavor = \"multi_thread\"`"), "{msg}");
        let msg = err(
            Entry::Test,
            quote!(start_paused = true, flavor = "multi_thread"),
        );
        assert!(msg.contains("needs the current-thread runtime"), "{msg}");
        let msg = err(
            Entry::Main,
            quote!(flavor = "current_thread", flavor = "multi_thread"),
        );
        assert!(msg.contains("duplicate option `flavor`"), "{msg}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = parse(
            Entry::Main,
            quote!(flavor = "foo", worker_threads = 0, bogus = 1),
        )
        .unwrap_err();
        assert_eq!(err.into_iter().count(), 3);
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("flavor", "flavor"), 0);
        assert_eq!(edit_distance("flavor", "flavour"), 1);
        assert_eq!(edit_distance("worker_threads", "worker_thread"), 1);
        assert_eq!(edit_distance("abc", "xyz"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
