//! Full-text search over tickets (subject), their messages and, for staff only, internal notes;
//! the knowledge base ([`crate::kb`]) uses the same pieces.
//!
//! Every searchable row keeps a `search_tsv` built by `kabinet_search_vector` (migration
//! `…17`) with the `russian` configuration, which stems Cyrillic words as Russian and ASCII
//! words as English, so one vector and one `websearch_to_tsquery('russian', …)` serve both
//! languages. Ranking is `ts_rank_cd` (subjects and titles weigh more than bodies); snippets
//! come from `ts_headline`, computed only for the rows of the page, and reach clients as
//! [`SnippetPart`]s, never as markup.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kabinet_core::SubscriberId;
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;
use uuid::Uuid;

use crate::model::TicketSummary;
use crate::repo::{SUMMARY_SELECT, TicketingError, summary_from_row};

/// The longest query we accept, in characters.
pub const QUERY_MAX: usize = 200;

/// Private-use characters that mark highlights between `ts_headline` and [`parse_snippet`];
/// they are removed from the text first, so a document cannot forge a highlight.
pub(crate) const MARK_START: char = '\u{E000}';
pub(crate) const MARK_END: char = '\u{E001}';

/// `ts_headline` of `$doc` for the query `q.q`, markers stripped from the text first.
pub(crate) fn headline_sql(doc: &str) -> String {
    format!(
        "ts_headline('russian', translate({doc}, E'\\uE000\\uE001', ''), q.q, \
         'StartSel=\u{E000}, StopSel=\u{E001}, MaxWords=30, MinWords=12, MaxFragments=2, \
          FragmentDelimiter=\" … \", HighlightAll=false')"
    )
}

/// What a user typed, checked: trimmed, 1–200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery(String);

impl SearchQuery {
    pub fn parse(raw: &str) -> Result<Self, TicketingError> {
        let text = raw.trim();
        let invalid = |reason: &str| TicketingError::Invalid {
            field: "q",
            reason: reason.into(),
        };
        if text.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if text.chars().count() > QUERY_MAX {
            return Err(invalid(&format!("must be at most {QUERY_MAX} characters")));
        }
        if text.chars().any(char::is_control) {
            return Err(invalid("must not contain control characters"));
        }
        Ok(Self(text.to_owned()))
    }

    /// The query as `websearch_to_tsquery` reads it: quotes for phrases, `or`, `-word`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Any of the words, for suggestions from free text (a subject and description as they
    /// are typed): a query that needs every word would find nothing. Only letters and
    /// digits survive, so no `websearch` syntax can sneak in; at most 32 distinct words.
    pub fn any_word(&self) -> Option<Self> {
        let mut words: Vec<String> = Vec::new();
        for w in self
            .0
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
        {
            let w = w.to_lowercase();
            if w != "or" && !words.contains(&w) {
                words.push(w);
            }
            if words.len() == 32 {
                break;
            }
        }
        (!words.is_empty()).then(|| Self(words.join(" or ")))
    }
}

/// A piece of a snippet; highlighted pieces are what matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnippetPart {
    pub text: String,
    pub highlighted: bool,
}

/// Splits `ts_headline` output at the markers into plain and highlighted pieces.
pub fn parse_snippet(raw: &str) -> Vec<SnippetPart> {
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut highlighted = false;
    let mut current = String::new();
    let mut flush = |text: &mut String, highlighted: bool| {
        if !text.is_empty() {
            parts.push(SnippetPart {
                text: std::mem::take(text),
                highlighted,
            });
        }
    };
    for c in raw.chars() {
        match c {
            MARK_START => {
                flush(&mut current, highlighted);
                highlighted = true;
            }
            MARK_END => {
                flush(&mut current, highlighted);
                highlighted = false;
            }
            c => current.push(c),
        }
    }
    flush(&mut current, highlighted);
    parts
}

/// Whose search it is: staff search the whole tenant including internal notes; a subscriber
/// searches their own tickets and never notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchScope {
    Staff,
    Subscriber(SubscriberId),
}

/// Where a ticket matched best.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HitSource {
    Subject,
    Message,
    /// Staff only.
    Note,
}

impl HitSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Message => "message",
            Self::Note => "note",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TicketHit {
    pub ticket: TicketSummary,
    pub rank: f32,
    pub source: HitSource,
    pub snippet: Vec<SnippetPart>,
}

/// Keyset position in a result list: the (rank, id) of the last row seen. The rank is carried
/// as its exact bits, so the next page starts exactly after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchCursor {
    pub rank: f32,
    pub id: Uuid,
}

impl SearchCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.rank.to_bits(), self.id))
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (bits, id) = text.split_once('|')?;
        let rank = f32::from_bits(bits.parse().ok()?);
        rank.is_finite().then_some(())?;
        Some(Self {
            rank,
            id: id.parse().ok()?,
        })
    }
}

#[derive(Clone, Debug)]
pub struct TicketSearchPage {
    pub items: Vec<TicketHit>,
    pub next: Option<SearchCursor>,
}

/// How many of the most recent matching rows of each kind (subjects, messages and, for staff,
/// notes) are ranked. A search returns the best matches among the most recent
/// `RECENT_MATCHES` of each kind, not among all of them: a common word ("интернет") matches a
/// large part of a big ISP's desk, and ranking all of it costs seconds. The newest matches are
/// found by walking the `(tenant_id, created_at DESC, id DESC)` indexes while few rows are
/// expected to match and through the GIN indexes otherwise (the planner's choice, from the
/// query's own words: see [`search_tickets`]); either way at most this many rows per kind are
/// ranked. Older tickets are still found by words that are rarer among the recent ones.
pub const RECENT_MATCHES: i64 = 1000;

/// How many of the newest rows holding every word of a phrase are checked for the phrase
/// itself. PostgreSQL estimates a phrase (`"charged twice"`) as common as its words together,
/// so for a phrase of common words it walked a big desk's whole history looking for adjacent
/// ones (0.8 s at 500,000 messages); the words alone are estimated well. So a phrase search
/// takes the newest `PHRASE_CANDIDATES` rows with all its words (through whichever index suits
/// them) and keeps the [`RECENT_MATCHES`] newest of those that hold the phrase (48 ms).
pub const PHRASE_CANDIDATES: i64 = 5000;

/// The newest matching rows of one source, as the `recent` part of [`search_tickets`] ranks
/// them: `columns` (ending with the sort keys `created_at` and `sort_id`) from `from_where`
/// (which ends in a `WHERE`), newest first. `$2` is the query text, `$6` [`RECENT_MATCHES`].
///
/// A query with a phrase is first matched with its phrases loosened to "all these words"
/// (`<->` and `<N>` become `&`; the parser never puts `<` in a lexeme, so only operators are
/// replaced), unless it negates something: `!(a <-> b)` loosened to `!(a & b)` would drop
/// rows it should keep. The words-only query is the phrase query itself otherwise, so the outer
/// filter and limit change nothing for it.
fn recent_matches(columns: &str, from_where: &str, tsv: &str) -> String {
    const QUERY_TEXT: &str = "websearch_to_tsquery('russian', $2)::text";
    const HAS_PHRASE: &str = "websearch_to_tsquery('russian', $2)::text ~ '<(-|[0-9]+)>'";
    format!(
        "SELECT c.* FROM ( \
           SELECT {columns} FROM {from_where} {tsv} @@ ( \
             CASE WHEN {HAS_PHRASE} AND {QUERY_TEXT} !~ '!' \
               THEN regexp_replace({QUERY_TEXT}, '<(-|[0-9]+)>', '&', 'g')::tsquery \
               ELSE websearch_to_tsquery('russian', $2) END) \
           ORDER BY created_at DESC, sort_id DESC \
           LIMIT CASE WHEN {HAS_PHRASE} THEN {PHRASE_CANDIDATES} ELSE $6 END) c \
         WHERE c.tsv @@ websearch_to_tsquery('russian', $2) \
         ORDER BY c.created_at DESC, c.sort_id DESC LIMIT $6"
    )
}

/// One page of tickets matching `query`, best first, in one statement: the newest
/// [`RECENT_MATCHES`] matching subjects, messages (and notes, for staff) are ranked, each
/// ticket keeps its best hit, and only the page's rows get a snippet.
///
/// The candidate set ("newest K by `(created_at, id)`") is deterministic, so the keyset cursor
/// `(rank, id)` pages through it exactly, page after page, as long as the desk does not change
/// in between (a new matching message moves the window, as it would change any ranking).
///
/// The statement is sent unprepared (`persistent(false)`), so PostgreSQL plans it for this very
/// query: how common the words are decides between walking the newest rows and the GIN index;
/// a cached generic plan would guess the same for "интернет" and a rare word.
pub async fn search_tickets(
    tx: &mut TenantTx,
    scope: SearchScope,
    query: &SearchQuery,
    after: Option<SearchCursor>,
    limit: i64,
) -> Result<TicketSearchPage, TicketingError> {
    let tenant = tx.tenant();
    let limit = limit.clamp(1, 100);
    let subscriber = match scope {
        SearchScope::Staff => None,
        SearchScope::Subscriber(s) => Some(s.as_uuid()),
    };
    // $1 tenant, $2 query text, $3/$4 cursor, $5 page size + 1, $6 RECENT_MATCHES,
    // $7 subscriber (subscriber scope only). The query is repeated as an expression (not read
    // from `q`) so the planner sees the words and estimates how many rows match.
    const SUBJECTS: &str = "t.id AS ticket_id, t.search_tsv AS tsv, 'subject' AS source, \
         NULL::uuid AS doc_id, t.created_at, t.id AS sort_id";
    const MESSAGES: &str = "m.ticket_id, m.search_tsv AS tsv, 'message' AS source, m.id AS doc_id, \
         m.created_at, m.id AS sort_id";
    let (subjects_from, messages_from) = match scope {
        SearchScope::Staff => (
            "tickets t WHERE t.tenant_id = $1 AND",
            "ticket_messages m WHERE m.tenant_id = $1 AND",
        ),
        // From the subscriber's own tickets (a handful), never from the whole desk.
        SearchScope::Subscriber(_) => (
            "tickets t WHERE t.tenant_id = $1 AND t.subscriber_id = $7 AND",
            "tickets o JOIN ticket_messages m ON m.tenant_id = o.tenant_id AND m.ticket_id = o.id \
             WHERE o.tenant_id = $1 AND o.subscriber_id = $7 AND m.tenant_id = $1 AND",
        ),
    };
    let subjects = recent_matches(SUBJECTS, subjects_from, "t.search_tsv");
    let messages = recent_matches(MESSAGES, messages_from, "m.search_tsv");
    // INVARIANT: the notes branch exists only in the staff statement, so no subscriber query
    // can match, rank or quote an internal note.
    let notes = match scope {
        SearchScope::Staff => format!(
            "UNION ALL ({})",
            recent_matches(
                "n.ticket_id, n.search_tsv AS tsv, 'note' AS source, n.id AS doc_id, \
                 n.created_at, n.id AS sort_id",
                "ticket_notes n WHERE n.tenant_id = $1 AND",
                "n.search_tsv",
            )
        ),
        SearchScope::Subscriber(_) => String::new(),
    };
    let headline = headline_sql("COALESCE(m.body, n.body, sub.subject)");
    let notes_join = match scope {
        SearchScope::Staff => {
            "LEFT JOIN ticket_notes n ON page.source = 'note' AND n.tenant_id = $1 AND n.id = page.doc_id"
        }
        SearchScope::Subscriber(_) => "LEFT JOIN (SELECT NULL::text AS body) n ON false",
    };
    let sql = format!(
        "WITH q AS (SELECT websearch_to_tsquery('russian', $2) AS q), \
         recent AS ( \
           ({subjects}) \
           UNION ALL ({messages}) \
           {notes} \
         ), \
         hits AS ( \
           SELECT r.ticket_id, ts_rank_cd(r.tsv, q.q, 1) AS rank, r.source, r.doc_id \
           FROM recent r CROSS JOIN q \
         ), \
         best AS ( \
           SELECT DISTINCT ON (ticket_id) ticket_id, rank, source, doc_id FROM hits \
           ORDER BY ticket_id, rank DESC, source DESC \
         ), \
         page AS ( \
           SELECT * FROM best WHERE ($3::real IS NULL OR (rank, ticket_id) < ($3, $4)) \
           ORDER BY rank DESC, ticket_id DESC LIMIT $5 \
         ) \
         SELECT sub.*, page.rank, page.source, {headline} AS snippet \
         FROM page CROSS JOIN q \
         JOIN ({SUMMARY_SELECT} WHERE t.tenant_id = $1) sub ON sub.id = page.ticket_id \
         LEFT JOIN ticket_messages m ON page.source = 'message' AND m.tenant_id = $1 AND m.id = page.doc_id \
         {notes_join} \
         ORDER BY page.rank DESC, page.ticket_id DESC"
    );
    let mut statement = sqlx::query(&sql)
        .persistent(false)
        .bind(tenant.as_uuid())
        .bind(query.as_str())
        .bind(after.map(|c| c.rank))
        .bind(after.map(|c| c.id))
        .bind(limit + 1)
        .bind(RECENT_MATCHES);
    if let Some(subscriber) = subscriber {
        statement = statement.bind(subscriber);
    }
    let rows = statement.fetch_all(tx.conn()).await?;
    let mut items = rows
        .iter()
        .map(|row| {
            let source: String = row.try_get("source")?;
            let snippet: String = row.try_get("snippet")?;
            Ok(TicketHit {
                ticket: summary_from_row(row)?,
                rank: row.try_get("rank")?,
                source: match source.as_str() {
                    "subject" => HitSource::Subject,
                    "message" => HitSource::Message,
                    "note" => HitSource::Note,
                    other => return Err(TicketingError::Corrupt(format!("hit source {other:?}"))),
                },
                snippet: parse_snippet(&snippet),
            })
        })
        .collect::<Result<Vec<_>, TicketingError>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|h| SearchCursor {
            rank: h.rank,
            id: h.ticket.id.as_uuid(),
        })
    } else {
        None
    };
    Ok(TicketSearchPage { items, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked() {
        assert_eq!(
            SearchQuery::parse("  подключение  ").map(|q| q.0).ok(),
            Some("подключение".into())
        );
        for bad in ["", "   ", "a\u{0}b", "line\nbreak", &"x".repeat(201)] {
            assert!(SearchQuery::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn any_word_keeps_only_words() {
        let q = SearchQuery::parse("Нет интернета -- \"since\" OR 9am, нет!").expect("q");
        assert_eq!(
            q.any_word().map(|q| q.0),
            Some("нет or интернета or since or 9am".into())
        );
        assert_eq!(SearchQuery::parse("- ! ?").expect("q").any_word(), None);
    }

    #[test]
    fn snippets_split_at_markers() {
        let raw = format!("Нет {MARK_START}подключения{MARK_END} к <b>сети</b>");
        assert_eq!(
            parse_snippet(&raw),
            vec![
                SnippetPart {
                    text: "Нет ".into(),
                    highlighted: false
                },
                SnippetPart {
                    text: "подключения".into(),
                    highlighted: true
                },
                SnippetPart {
                    text: " к <b>сети</b>".into(),
                    highlighted: false
                },
            ]
        );
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = SearchCursor {
            rank: 0.123_456_7,
            id: Uuid::now_v7(),
        };
        assert_eq!(SearchCursor::decode(&c.encode()), Some(c));
        let nan = URL_SAFE_NO_PAD.encode(format!("{}|{}", f32::NAN.to_bits(), Uuid::nil()));
        for bad in ["", "!!", "bm9wZQ", nan.as_str()] {
            assert_eq!(SearchCursor::decode(bad), None, "{bad}");
        }
    }
}
