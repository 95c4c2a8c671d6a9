//! Expansion: checks the function, then rewrites it into a synchronous function that builds
//! a runtime and blocks on the original function.
//!
//! For `#[arbor::main(worker_threads = 4)] async fn main() -> R { BODY }` the output is:
//!
//! ```text
//! fn main() -> R {
//!     async fn __arbor_body() -> R { BODY }
//!     const { assert!(4 <= ::arbor::runtime::MAX_WORKER_THREADS, "...") };
//!     let runtime = ::arbor::runtime::Builder::new_multi_thread()
//!         .worker_threads(4)
//!         .build()
//!         .unwrap_or_else(|err| panic!("#[arbor::main]: ...: {}", err));
//!     runtime.block_on(::std::boxed::Box::pin(__arbor_body()))
//! }
//! ```
//!
//! - The user's function survives whole, renamed, as an `async fn` nested in the generated
//!   one: its return type, `?`, `return` and a diverging body (`loop {}` in a server's
//!   `main`) behave, and are diagnosed, exactly as in the `async fn` the user wrote. (An
//!   `async` block would need its output type stated after the body, and a body that never
//!   returns would then warn of unreachable code.) Generic parameters are copied to it
//!   and passed on; `Self` is not visible in a nested function, so the attributes go on
//!   free functions.
//! - The future is boxed so that a large one does not overflow the stack of the main
//!   thread or the smaller stack of a test thread: one allocation per program or test.
//! - The `const` assertion checks `worker_threads` against the runtime's own
//!   `MAX_WORKER_THREADS` at compile time, so this crate keeps no copy of the number.
//! - A `#[arbor::test]` on the current-thread runtime also gets
//!   `let seed = ::arbor::__private::TestSeed::new(Some(N) or None);` before the builder
//!   and `.rng_seed(seed.get())` on it: the seed of `seed = N`, else `ARBOR_SEED`, else a
//!   drawn one. The guard outlives the runtime and prints the seed if the test panics.
//! - `#[arbor::test]` adds `#[::core::prelude::v1::test]` (a path a user's own `test` item
//!   cannot shadow) in front of the function's attributes, so `#[should_panic]`,
//!   `#[ignore]` and doc comments keep working. Outer attributes stay on the generated
//!   function; inner ones (`#![allow(...)]` at the top of the body) stay with the body.
//! - Locals the expansion introduces have `Span::mixed_site()` hygiene: the body cannot
//!   see or shadow them.
//!
//! On any error the expansion still emits a function, next to the errors, so the compiler
//! reports only the macro's errors and an IDE keeps analysing the body: the normal
//! expansion with default options, or, when the function has arguments (which a
//! `main` or a test cannot take), a stub with the same name and return type.

use crate::config::{Config, Entry, Errors, Flavor};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, TokenStreamExt, format_ident, quote, quote_spanned};
use syn::{AttrStyle, Attribute, GenericParam, Item, ItemFn, Token};

/// Expands `#[arbor::main]` or `#[arbor::test]` (`entry`) with options `args` on `item`.
pub(crate) fn expand(entry: Entry, args: TokenStream, item: TokenStream) -> TokenStream {
    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        Ok(other) => {
            let err = syn::Error::new(
                item_span(&other),
                format!("`{}` applies to an `async fn` only", entry.attr()),
            );
            return with_errors(err, item);
        }
        Err(err) => return with_errors(err, item),
    };

    let mut errors = Errors::default();
    check_signature(entry, &func, &mut errors);
    let config = Config::parse(entry, args).unwrap_or_else(|err| {
        errors.push(err);
        Config::default_for(entry)
    });
    match errors.finish() {
        Ok(()) => generate(entry, &func, &config),
        Err(err) if func.sig.inputs.is_empty() => with_errors(err, generate(entry, &func, &config)),
        Err(err) => with_errors(err, stub(entry, &func)),
    }
}

/// `err` as `compile_error!` invocations, followed by `item`.
fn with_errors(err: syn::Error, item: TokenStream) -> TokenStream {
    let mut out = err.to_compile_error();
    out.extend(item);
    out
}

/// Where to point an error about an item that is not a function: its first token.
fn item_span(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}

/// The function must be `async`, take no arguments, and (for a test) not be marked as a
/// test a second time.
fn check_signature(entry: Entry, func: &ItemFn, errors: &mut Errors) {
    let sig = &func.sig;
    let name = &sig.ident;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            format!(
                "the `async` keyword is missing: `{}` runs the body of an async function on \
                 a new runtime; write `async fn {name}`",
                entry.attr()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        let msg = match entry {
            Entry::Main => format!(
                "`{}` takes no arguments; read command-line arguments with \
                 `std::env::args()` inside the body",
                entry.attr()
            ),
            Entry::Test => "a test function takes no arguments; build the values it needs \
                            inside the body"
                .to_string(),
        };
        errors.push(syn::Error::new_spanned(&sig.inputs, msg));
    }
    if entry == Entry::Test {
        for attr in func.attrs.iter().filter(|a| is_test_attr(a)) {
            errors.push(syn::Error::new_spanned(
                attr,
                "a second test attribute: `#[arbor::test]` already makes this function a \
                 test; remove this one",
            ));
        }
    }
}

/// `#[test]`, `#[arbor::test]`, `#[tokio::test]`...: an attribute whose path ends in `test`.
fn is_test_attr(attr: &Attribute) -> bool {
    matches!(attr.style, AttrStyle::Outer)
        && attr
            .path()
            .segments
            .last()
            .is_some_and(|seg| seg.ident == "test")
}

/// The name of the nested `async fn` that holds the user's function. Items are not
/// hygienic, so it is a name no one writes: it is visible inside the body.
const BODY_FN: &str = "__arbor_body";

/// The synchronous function that runs the body on a runtime configured by `config`.
fn generate(entry: Entry, func: &ItemFn, config: &Config) -> TokenStream {
    let (outer, inner) = split_attrs(entry, func);
    let vis = &func.vis;
    let mut sig = func.sig.clone();
    sig.asyncness = None;

    // The user's function, renamed, with its inner attributes inside its own braces.
    let body_fn = format_ident!("{}", BODY_FN);
    let mut body_sig = func.sig.clone();
    body_sig.ident = body_fn.clone();
    // Already `async`, except in the fallback after a "missing `async`" error.
    body_sig.asyncness = Some(Token![async](Span::call_site()));
    let mut body_block = TokenStream::new();
    func.block.brace_token.surround(&mut body_block, |tokens| {
        tokens.append_all(&inner);
        tokens.append_all(&func.block.stmts);
    });
    let generic_args: Vec<TokenStream> = func
        .sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => Some(ty.ident.to_token_stream()),
            GenericParam::Const(c) => Some(c.ident.to_token_stream()),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let turbofish = (!generic_args.is_empty()).then(|| quote! { ::<#(#generic_args),*> });

    let runtime = format_ident!("runtime", span = Span::mixed_site());
    let err = format_ident!("err", span = Span::mixed_site());
    let builder = match config.flavor {
        Flavor::MultiThread => quote! { ::arbor::runtime::Builder::new_multi_thread() },
        Flavor::CurrentThread => quote! { ::arbor::runtime::Builder::new_current_thread() },
    };
    let (worker_check, worker_call) = match &config.worker_threads {
        Some(n) => (
            quote_spanned! {n.span()=>
                const {
                    ::core::assert!(
                        #n <= ::arbor::runtime::MAX_WORKER_THREADS,
                        "`worker_threads` must be at most `arbor::runtime::MAX_WORKER_THREADS`"
                    )
                };
            },
            quote_spanned! {n.span()=> .worker_threads(#n) },
        ),
        None => (TokenStream::new(), TokenStream::new()),
    };
    let paused_call = config
        .start_paused
        .map(|span| quote_spanned! {span=> .start_paused(true) });
    // A test on the current-thread runtime runs in a seeded order: `seed = N`, else
    // `ARBOR_SEED`, else a drawn seed; the guard prints it if the test panics.
    let seed = format_ident!("seed", span = Span::mixed_site());
    let (seed_guard, seed_call) = match (entry, config.flavor) {
        (Entry::Test, Flavor::CurrentThread) => {
            let (explicit, span) = match config.seed {
                Some((n, span)) => (
                    quote_spanned! {span=> ::core::option::Option::Some(#n) },
                    span,
                ),
                None => (quote! { ::core::option::Option::None }, Span::call_site()),
            };
            (
                quote! { let #seed = ::arbor::__private::TestSeed::new(#explicit); },
                quote_spanned! {span=> .rng_seed(#seed.get()) },
            )
        }
        _ => (TokenStream::new(), TokenStream::new()),
    };
    let build_failed = format!("{}: failed to start the arbor runtime: {{}}", entry.attr());

    quote! {
        #(#outer)*
        #vis #sig {
            #body_sig #body_block
            #worker_check
            #seed_guard
            let #runtime = #builder
                #worker_call
                #paused_call
                #seed_call
                .build()
                .unwrap_or_else(|#err| ::core::panic!(#build_failed, #err));
            #runtime.block_on(::std::boxed::Box::pin(#body_fn #turbofish ()))
        }
    }
}

/// A stand-in for a function whose signature cannot be expanded (it has arguments): same
/// attributes, name and return type, so nothing else in the crate breaks.
fn stub(entry: Entry, func: &ItemFn) -> TokenStream {
    let (outer, _) = split_attrs(entry, func);
    let mut sig = func.sig.clone();
    sig.asyncness = None;
    sig.inputs.clear();
    let vis = &func.vis;
    quote! {
        #(#outer)*
        #vis #sig {
            ::core::unimplemented!()
        }
    }
}

/// The generated function's outer attributes (for a test, the test attribute first, and
/// no second test attribute) and the body's inner attributes.
fn split_attrs(entry: Entry, func: &ItemFn) -> (Vec<TokenStream>, Vec<&Attribute>) {
    let mut outer = Vec::new();
    if entry == Entry::Test {
        outer.push(quote! { #[::core::prelude::v1::test] });
    }
    let mut inner = Vec::new();
    for attr in &func.attrs {
        match attr.style {
            AttrStyle::Outer if entry == Entry::Test && is_test_attr(attr) => {}
            AttrStyle::Outer => outer.push(attr.to_token_stream()),
            AttrStyle::Inner(_) => inner.push(attr),
        }
    }
    (outer, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_to_string(entry: Entry, args: TokenStream, item: TokenStream) -> String {
        expand(entry, args, item).to_string()
    }

    #[test]
    fn main_builds_the_requested_runtime() {
        let out = expand_to_string(
            Entry::Main,
            quote!(worker_threads = 3),
            quote!(
                async fn main() {}
            ),
        );
        assert!(
            out.contains(":: arbor :: runtime :: Builder :: new_multi_thread ()"),
            "{out}"
        );
        assert!(out.contains(". worker_threads (3)"), "{out}");
        assert!(out.contains("MAX_WORKER_THREADS"), "{out}");
        assert!(
            out.starts_with("fn main () {"),
            "the generated function is not async: {out}"
        );
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn test_defaults_to_current_thread_and_keeps_attributes() {
        let out = expand_to_string(
            Entry::Test,
            quote!(),
            quote!(
                /// Docs.
                #[should_panic]
                async fn t() {}
            ),
        );
        assert!(
            out.starts_with("# [:: core :: prelude :: v1 :: test]"),
            "{out}"
        );
        assert!(out.contains("# [should_panic]"), "{out}");
        assert!(out.contains("# [doc = r\" Docs.\"]"), "{out}");
        assert!(out.contains("new_current_thread ()"), "{out}");
    }

    #[test]
    fn start_paused_calls_the_builder() {
        let out = expand_to_string(
            Entry::Test,
            quote!(start_paused = true),
            quote!(
                async fn t() {}
            ),
        );
        assert!(out.contains(". start_paused (true)"), "{out}");
    }

    #[test]
    fn a_current_thread_test_runs_seeded() {
        let out = expand_to_string(
            Entry::Test,
            quote!(seed = 42),
            quote!(
                async fn t() {}
            ),
        );
        assert!(
            out.contains("TestSeed :: new (:: core :: option :: Option :: Some (42u64))"),
            "{out}"
        );
        assert!(out.contains(". rng_seed (seed . get ())"), "{out}");
        let out = expand_to_string(
            Entry::Test,
            quote!(),
            quote!(
                async fn t() {}
            ),
        );
        assert!(
            out.contains("TestSeed :: new (:: core :: option :: Option :: None)"),
            "{out}"
        );
        let out = expand_to_string(
            Entry::Test,
            quote!(flavor = "multi_thread"),
            quote!(
                async fn t() {}
            ),
        );
        assert!(
            !out.contains("seed"),
            "no seed on a multi-thread runtime: {out}"
        );
        let out = expand_to_string(
            Entry::Main,
            quote!(flavor = "current_thread"),
            quote!(
                async fn main() {}
            ),
        );
        assert!(!out.contains("seed"), "no seed for a program: {out}");
    }

    #[test]
    fn the_function_survives_nested_and_renamed() {
        let out = expand_to_string(
            Entry::Main,
            quote!(),
            quote!(
                async fn main() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            out.starts_with("fn main () -> Result < () , E > {"),
            "{out}"
        );
        assert!(
            out.contains("async fn __arbor_body () -> Result < () , E > { Ok (()) }"),
            "{out}"
        );
        assert!(
            out.contains("block_on (:: std :: boxed :: Box :: pin (__arbor_body ()))"),
            "{out}"
        );
    }

    #[test]
    fn generic_parameters_are_passed_on() {
        let out = expand_to_string(
            Entry::Main,
            quote!(),
            quote!(
                async fn make<'a, T: Default, const N: usize>() -> [T; N] {
                    todo!()
                }
            ),
        );
        assert!(out.contains("__arbor_body :: < T , N > ()"), "{out}");
    }

    #[test]
    fn inner_attributes_stay_with_the_body() {
        let out = expand_to_string(
            Entry::Main,
            quote!(),
            quote!(
                async fn main() {
                    #![allow(unused)]
                    let x = 1;
                }
            ),
        );
        let inner = out
            .find("# ! [allow (unused)]")
            .expect("the inner attribute is kept");
        let sig = out.find("fn main ()").unwrap();
        assert!(sig < inner, "{out}");
    }

    #[test]
    fn errors_come_with_a_fallback_function() {
        let out = expand_to_string(
            Entry::Main,
            quote!(flavor = "x"),
            quote!(
                async fn main() {}
            ),
        );
        assert!(out.contains("compile_error"), "{out}");
        assert!(
            out.contains("new_multi_thread"),
            "default options after an error: {out}"
        );
        let out = expand_to_string(
            Entry::Main,
            quote!(),
            quote!(
                async fn main(x: u8) {}
            ),
        );
        assert!(
            out.contains("compile_error") && out.contains("unimplemented"),
            "{out}"
        );
        assert!(
            !out.contains("x : u8 )"),
            "the stub drops the arguments: {out}"
        );
        let out = expand_to_string(
            Entry::Test,
            quote!(),
            quote!(
                #[test]
                async fn t() {}
            ),
        );
        assert!(
            !out.contains("# [test]"),
            "the second test attribute is dropped: {out}"
        );
        assert_eq!(out.matches("v1 :: test]").count(), 1, "{out}");
    }

    #[test]
    fn non_functions_are_rejected() {
        let out = expand_to_string(
            Entry::Main,
            quote!(),
            quote!(
                struct S;
            ),
        );
        assert!(out.contains("applies to an `async fn` only"), "{out}");
        assert!(out.contains("struct S"), "{out}");
    }
}
