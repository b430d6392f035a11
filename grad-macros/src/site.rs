//! Where the attribute sits, read from the source file: whether a lone method's enclosing
//! block is a trait impl, where its derivatives cannot go.
//!
//! A method's tokens look the same in a trait impl and in an inherent impl, so the macro
//! reads the file that the attribute's span names (`Span::local_file`, `line`, `column`,
//! stable since Rust 1.88) and finds the innermost `{` open before the attribute. Any doubt
//! (no file, a location whose text is not the attribute, a header it cannot read) answers
//! "no", which leaves the expansion as it was: only a sure answer changes it.

use std::path::Path;

/// Whether the `#[differentiable]` attribute being expanded sits directly in a trait impl.
/// Only callable while a proc macro runs.
pub fn attribute_in_trait_impl() -> bool {
    let span = proc_macro::Span::call_site();
    let Some(file) = span.local_file() else {
        return false;
    };
    read(&file).is_some_and(|src| in_trait_impl(&src, span.line(), span.column()))
}

fn read(file: &Path) -> Option<String> {
    std::fs::read_to_string(file).ok()
}

/// Whether the attribute (`#` at one-indexed `line` and `column`) of `src` is directly in a
/// block opened by `impl ... Trait for Type`.
pub fn in_trait_impl(src: &str, line: usize, column: usize) -> bool {
    if line == 0 {
        return false;
    }
    let start: usize = src.split_inclusive('\n').take(line - 1).map(str::len).sum();
    let Some(text) = src.get(start..).and_then(|t| t.lines().next()) else {
        return false;
    };
    // The column counts characters; where that is not the attribute's `#`, the location is
    // not one we can trust.
    let Some((offset, '#')) = text.char_indices().nth(column.saturating_sub(1)) else {
        return false;
    };
    enclosing_header(&src[..start + offset]).is_some_and(|h| is_trait_impl_header(&h))
}

/// The tokens (identifiers and punctuation; no comments or literals) before the innermost
/// `{` left open at the end of `src`, from the previous `;`, `{` or `}`.
fn enclosing_header(src: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = src.chars().collect();
    let mut stack: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut i = 0;
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0usize;
                while i < chars.len() {
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '\'' => {
                // `'x'`, `'\n'`: a character; `'a` alone: a lifetime or label.
                if at(i + 1) == '\\' {
                    i += 3;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                } else if at(i + 2) == '\'' {
                    i += 2;
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let s = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[s..i].iter().collect();
                // Raw strings: `r"..."`, `r#"..."#`, `br"..."`, `cr#"..."#`.
                if matches!(word.as_str(), "r" | "br" | "cr") && matches!(at(i), '"' | '#') {
                    let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
                    if at(i + hashes) == '"' {
                        i += hashes + 1;
                        let close: String = std::iter::once('"')
                            .chain((0..hashes).map(|_| '#'))
                            .collect();
                        let rest: String = chars[i..].iter().collect();
                        i += rest.find(&close).map_or(rest.chars().count(), |b| {
                            rest[..b].chars().count() + close.len()
                        });
                        continue;
                    }
                }
                current.push(word);
                continue;
            }
            '{' => stack.push(std::mem::take(&mut current)),
            '}' => {
                stack.pop();
                current.clear();
            }
            ';' => current.clear(),
            '-' if at(i + 1) == '>' => {
                current.push("->".into());
                i += 1;
            }
            c if !c.is_whitespace() => current.push(c.to_string()),
            _ => {}
        }
        i += 1;
    }
    stack.pop()
}

/// Whether a block's header is `#[..] unsafe impl<..> Trait for Type where ..`: `impl`
/// first (after attributes and `unsafe`/`default`), then a `for` outside angle brackets and
/// parentheses that is not a `for<'a>` binder, before any `where`.
fn is_trait_impl_header(h: &[String]) -> bool {
    let mut k = 0;
    // Outer attributes: `#` `[` ... `]`.
    while h.get(k).is_some_and(|t| t == "#") {
        let mut depth = 0;
        k += 1;
        while let Some(t) = h.get(k) {
            k += 1;
            match t.as_str() {
                "[" | "(" => depth += 1,
                "]" | ")" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    while h.get(k).is_some_and(|t| t == "unsafe" || t == "default") {
        k += 1;
    }
    if h.get(k).is_none_or(|t| t != "impl") {
        return false;
    }
    let mut depth = 0i32;
    for (j, t) in h.iter().enumerate().skip(k + 1) {
        match t.as_str() {
            "<" | "(" | "[" => depth += 1,
            ">" | ")" | "]" => depth -= 1,
            "where" if depth == 0 => return false,
            "for" if depth == 0 => return h.get(j + 1).is_none_or(|n| n != "<"),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::in_trait_impl;

    /// Whether the attribute at the `#` that follows `@` is directly in a trait impl.
    fn at_marker(src: &str) -> bool {
        let k = src.find('@').expect("a marker");
        let src = src.replacen('@', "", 1);
        let line = src[..k].matches('\n').count() + 1;
        let column = src[..k].rsplit('\n').next().unwrap_or("").chars().count() + 1;
        in_trait_impl(&src, line, column)
    }

    #[test]
    fn trait_impls_are_told_from_other_blocks() {
        let yes = [
            "impl Model for Line {\n    @#[differentiable]\n    fn f(&self) -> f64 { 1.0 }\n}",
            "/// doc { with a brace\nimpl<T: Real> Energy<T> for S<T> where T: Copy {\n  fn a(&self) {}\n  @#[differentiable] fn f() {}",
            "mod m { fn g() { let s = \"}\"; let c = '}'; } #[cfg(x)] unsafe impl Tr for X { @#[differentiable] fn f() {} } }",
            "impl<F: Fn(&u8) -> bool> Tr for W<F> { @#[d] fn f() {} }",
            "impl Tr for X { /* } */ @#[d] fn f() {} }",
            "impl Tr for X { const S: &str = r#\"}\"#; @#[d] fn f() {} }",
        ];
        let no = [
            "impl Line {\n    @#[differentiable]\n    fn f(&self) -> f64 { 1.0 }\n}",
            "@#[differentiable]\nfn f(x: f64) -> f64 { x }",
            "impl Tr for X { fn g() { @#[d] fn f() {} } }",
            "impl<T> X<T> where for<'a> &'a T: Add { @#[d] fn f() {} }",
            "impl Tr for X { fn g() {} }\nimpl Y { @#[d] fn f() {} }",
            "trait Tr { @#[d] fn f() {} }",
            "mod for_x { @#[d] fn f() {} }",
        ];
        for src in yes {
            assert!(at_marker(src), "not found in a trait impl:\n{src}");
        }
        for src in no {
            assert!(!at_marker(src), "found in a trait impl:\n{src}");
        }
        // A location whose text is not an attribute is not trusted.
        assert!(!in_trait_impl("impl Tr for X { fn f() {} }", 1, 17));
        assert!(!in_trait_impl("impl Tr for X { #[d] fn f() {} }", 9, 1));
    }
}
