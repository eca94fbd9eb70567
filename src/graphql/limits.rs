//! Parsing, and the limits on a document's shape that must hold before async-graphql
//! validates it: how many fields it expands to once every fragment spread is replaced by its
//! fragment, how many of those carry an alias, how deeply it nests, and how many directives
//! one field carries. A fragment chain (each fragment spreading the previous one twice, 27
//! levels, about 1 KB) expands to 2^27 fields; async-graphql's own recursion-depth and
//! directive checks, and then its validation, walk that expansion and take minutes of CPU.
//! So [`DocumentLimits::parse`] parses the document itself and measures it with each fragment's size
//! memoised, in time linear in its text, and hands on only a document within the limits
//! (async-graphql's expanding checks are not run; the same limits are kept here).

use std::collections::HashMap;

use async_graphql::{
    ServerError, ServerResult,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

/// Marks a request that came over `GET`, with its `operationName`: it may run queries only (a
/// mutation over GET could be triggered by a link or an image). Checked on the document
/// actually run, so a persisted query's hash cannot smuggle a mutation in.
#[derive(Clone, Debug)]
pub struct ViaGet(pub Option<String>);

/// The document limits, from configuration.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    /// Fields of the whole document once fragments are expanded.
    pub max_fields: usize,
    /// Aliased fields of the expanded document.
    pub max_aliases: usize,
    /// Nesting of selection sets, fragment spreads counted (async-graphql's "recursive
    /// depth"; the schema's depth limit counts fields only and applies at validation).
    pub max_nesting: usize,
    /// Directives on one field.
    pub max_directives: usize,
    /// Whether `__schema` and `__type` may be asked for.
    pub introspection: bool,
}

/// Fields and aliased fields of an expanded selection (saturating: a chain can overflow),
/// and how deeply its selection sets nest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    pub fields: usize,
    pub aliases: usize,
    pub nesting: usize,
}

impl Size {
    fn add(self, other: Size) -> Size {
        Size {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
            nesting: self.nesting.max(other.nesting),
        }
    }

    /// This size one selection set deeper.
    fn nested(self) -> Size {
        Size {
            nesting: self.nesting + 1,
            ..self
        }
    }
}

/// Why a document cannot be measured.
#[derive(Debug, PartialEq, Eq)]
pub enum Unmeasurable {
    /// A fragment spreads itself, directly or through others (validation refuses it too).
    Cycle(String),
}

struct Measure<'a> {
    doc: &'a ExecutableDocument,
    done: HashMap<&'a str, Size>,
    visiting: Vec<&'a str>,
}

impl<'a> Measure<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Result<Size, Unmeasurable> {
        let mut total = Size::default();
        for item in &set.items {
            let size = match &item.node {
                Selection::Field(f) => {
                    let own = Size {
                        fields: 1,
                        aliases: usize::from(f.node.alias.is_some()),
                        nesting: 0,
                    };
                    if f.node.selection_set.node.items.is_empty() {
                        own
                    } else {
                        own.add(self.set(&f.node.selection_set.node)?.nested())
                    }
                }
                Selection::InlineFragment(f) => self.set(&f.node.selection_set.node)?.nested(),
                Selection::FragmentSpread(s) => {
                    self.fragment(s.node.fragment_name.node.as_str())?.nested()
                }
            };
            total = total.add(size);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Size, Unmeasurable> {
        if let Some(size) = self.done.get(name) {
            return Ok(*size);
        }
        if self.visiting.contains(&name) {
            return Err(Unmeasurable::Cycle(name.to_owned()));
        }
        // An unknown fragment is validation's to refuse; it adds nothing here.
        let Some((key, fragment)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Size::default());
        };
        self.visiting.push(name);
        let size = self.set(&fragment.node.selection_set.node)?;
        self.visiting.pop();
        self.done.insert(key.as_str(), size);
        Ok(size)
    }
}

/// The size of the document's operations once every fragment is expanded.
pub fn measure(doc: &ExecutableDocument) -> Result<Size, Unmeasurable> {
    let mut m = Measure {
        doc,
        done: HashMap::new(),
        visiting: Vec::new(),
    };
    let mut total = Size::default();
    for (_, op) in doc.operations.iter() {
        total = total.add(m.set(&op.node.selection_set.node)?);
    }
    Ok(total)
}

pub(super) fn refusal(code: &str, message: String) -> ServerError {
    let mut e = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    e.extensions = Some(ext);
    e
}

/// A refusal by a numeric limit: `limit` and `actual` ride along in `extensions`, so a client
/// can act on them without reading the message.
pub(super) fn over_limit(code: &str, message: String, limit: usize, actual: usize) -> ServerError {
    let mut e = refusal(code, message);
    if let Some(ext) = e.extensions.as_mut() {
        ext.set("limit", limit as u64);
        ext.set("actual", actual as u64);
    }
    e
}

/// A syntax error as one line ("expected …" at its position), not the parser's trace.
fn parse_failure(e: async_graphql::parser::Error) -> ServerError {
    let positions: Vec<async_graphql::Pos> = e.positions().collect();
    let detail = match &e {
        async_graphql::parser::Error::Syntax { message, .. } => message
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("= "))
            .unwrap_or("unexpected input")
            .replace('_', " "),
        other => other.to_string(),
    };
    let mut err = refusal("GRAPHQL_PARSE_FAILED", format!("Syntax error: {detail}"));
    err.locations = positions;
    err
}

/// The most directives any one field of the document carries, and whether any field is an
/// introspection root (no expansion needed: every field of every operation and fragment is
/// looked at once).
fn fields_survey(doc: &ExecutableDocument) -> (usize, bool) {
    fn walk(set: &SelectionSet) -> (usize, bool) {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => {
                    let (below, intro) = walk(&f.node.selection_set.node);
                    let name = f.node.name.node.as_str();
                    (
                        f.node.directives.len().max(below),
                        intro || name == "__schema" || name == "__type",
                    )
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => (0, false),
            })
            .fold((0, false), |(d, i), (d2, i2)| (d.max(d2), i || i2))
    }
    let ops = doc
        .operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node));
    let frags = doc
        .fragments
        .values()
        .map(|f| walk(&f.node.selection_set.node));
    ops.chain(frags)
        .fold((0, false), |(d, i), (d2, i2)| (d.max(d2), i || i2))
}

/// Checks a parsed document against the limits: the refusal a client gets, if any.
pub fn check(doc: &ExecutableDocument, limits: &DocumentLimits) -> Result<(), ServerError> {
    let DocumentLimits {
        max_fields,
        max_aliases,
        max_nesting,
        max_directives,
        ..
    } = *limits;
    let size = match measure(doc) {
        Ok(size) => size,
        Err(Unmeasurable::Cycle(name)) => {
            return Err(refusal(
                "GRAPHQL_VALIDATION_FAILED",
                format!("fragment {name} spreads itself"),
            ));
        }
    };
    if size.fields > max_fields {
        return Err(over_limit(
            "QUERY_TOO_LARGE",
            format!(
                "the document expands to more than {max_fields} fields ({} with its fragments spread)",
                size.fields
            ),
            max_fields,
            size.fields,
        ));
    }
    if size.aliases > max_aliases {
        return Err(over_limit(
            "ALIAS_LIMIT",
            format!("too many aliases ({} > {max_aliases})", size.aliases),
            max_aliases,
            size.aliases,
        ));
    }
    if size.nesting > max_nesting {
        return Err(over_limit(
            "QUERY_TOO_DEEP",
            format!("the document nests deeper than {max_nesting} selection sets"),
            max_nesting,
            size.nesting,
        ));
    }
    let (directives, introspects) = fields_survey(doc);
    if introspects && !limits.introspection {
        return Err(refusal(
            "INTROSPECTION_DISABLED",
            "introspection is switched off on this server (limits.introspection)".into(),
        ));
    }
    if directives > max_directives {
        return Err(over_limit(
            "GRAPHQL_VALIDATION_FAILED",
            format!("a field carries {directives} directives (at most {max_directives})"),
            max_directives,
            directives,
        ));
    }
    Ok(())
}

/// The type of the operation a request runs: the one named, or the first.
fn selected(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    let mut ops = doc.operations.iter();
    match name {
        Some(name) => ops.find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => ops.next(),
    }
    .map(|(_, op)| op.node.ty)
}

impl DocumentLimits {
    /// Parses a document and checks it against these limits; async-graphql's own parse step
    /// (whose checks expand fragments) is not run.
    pub fn parse(&self, query: &str) -> ServerResult<ExecutableDocument> {
        let doc = async_graphql::parser::parse_query(query).map_err(parse_failure)?;
        check(&doc, self)?;
        Ok(doc)
    }
}

/// Refuses to run a mutation or subscription that came over GET.
pub fn allowed_over_get(doc: &ExecutableDocument, via: &ViaGet) -> ServerResult<()> {
    if selected(doc, via.0.as_deref()).is_some_and(|ty| ty != OperationType::Query) {
        return Err(refusal(
            "METHOD_NOT_ALLOWED",
            "mutations and subscriptions are not accepted over GET; use POST (or graphql-ws for subscriptions)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fragment chain: `F0 { __typename }`, `Fn { ...Fn-1 ...Fn-1 }`.
    pub(super) fn chain(levels: usize) -> String {
        let mut q = String::from("query { ...F0 }\nfragment F0 on Query { __typename }\n");
        for i in 1..=levels {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
                p = i - 1
            ));
        }
        q.replace("query { ...F0 }", &format!("query {{ ...F{levels} }}"))
    }

    #[test]
    fn fragment_chains_are_measured_not_expanded() {
        let doc = async_graphql::parser::parse_query(chain(27)).unwrap();
        assert_eq!(measure(&doc).unwrap().fields, 1 << 27);
        let doc = async_graphql::parser::parse_query(chain(200)).unwrap();
        assert_eq!(measure(&doc).unwrap().fields, usize::MAX, "saturates");
        assert!(check(&doc, &LIMITS).is_err());
    }

    #[test]
    fn aliases_count_through_fragments() {
        let q = "query { ...A ...A } fragment A on Query { a: __typename b: __typename }";
        let doc = async_graphql::parser::parse_query(q).unwrap();
        assert_eq!(
            measure(&doc).unwrap(),
            Size {
                fields: 4,
                aliases: 4,
                nesting: 1
            }
        );
        let three = DocumentLimits {
            max_aliases: 3,
            ..LIMITS
        };
        assert!(check(&doc, &three).is_err());
        let four = DocumentLimits {
            max_aliases: 4,
            ..LIMITS
        };
        assert!(check(&doc, &four).is_ok());
    }

    const LIMITS: DocumentLimits = DocumentLimits {
        max_fields: 2_000,
        max_aliases: 30,
        max_nesting: 32,
        max_directives: 10,
        introspection: true,
    };

    #[test]
    fn nesting_and_directives() {
        let deep = format!("{{ {}__typename{} }}", "a { ".repeat(40), " }".repeat(40));
        let doc = async_graphql::parser::parse_query(deep).unwrap();
        assert_eq!(measure(&doc).unwrap().nesting, 40);
        assert!(check(&doc, &LIMITS).is_err());
        let q = format!("{{ __typename {} }}", "@skip(if: false) ".repeat(11));
        let doc = async_graphql::parser::parse_query(q).unwrap();
        assert!(check(&doc, &LIMITS).is_err());
    }

    #[test]
    fn cycles_are_refused() {
        let q = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        let doc = async_graphql::parser::parse_query(q).unwrap();
        assert!(matches!(measure(&doc), Err(Unmeasurable::Cycle(_))));
    }
}
