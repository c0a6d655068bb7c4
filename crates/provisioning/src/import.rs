//! Importing an ISP's subscribers from CSV, streamed: the body is read in 64 KiB chunks,
//! decoded (UTF-8, UTF-8 with BOM or Windows-1251), split into records by `csv-core` (the `csv`
//! crate's engine, which takes input in pieces), validated row by row and written in batches of
//! [`BATCH_ROWS`] through the domain crates' set-based functions. Memory stays bounded: one
//! chunk, one batch, and the sets of account numbers, e-mails and phones seen (to report
//! duplicates within the file).
//!
//! All or nothing: everything runs in the caller's transaction, and the caller commits only a
//! clean, non-dry run ([`ImportReport::is_clean`]). A dry run does the same work and rolls it
//! back, so its counts are exact. Keyed on account number, so re-importing a file changes
//! nothing: an existing subscriber takes the row's contact fields, tariff and block, and the
//! opening balance is posted at most once per account (`billing::seed_accounts`). Imported
//! subscribers get no password: they use "forgot password", or staff send them an invitation.

use std::collections::{HashMap, HashSet};

use encoding_rs::{DecoderResult, Encoding as TextEncoding, UTF_8, WINDOWS_1251};
use kabinet_access::AccessError;
use kabinet_access::subscribers::{
    Contact, ImportedSubscriber, contact_conflicts, parse_account_number, upsert_subscribers,
};
use kabinet_billing::{AccountSeed, BillingError, seed_accounts, tariff_codes};
use kabinet_core::Currency;
use kabinet_db::TenantTx;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::Amount;

/// Rows written per statement.
pub const BATCH_ROWS: usize = 5_000;
/// Errors listed in a report; the rest are only counted.
pub const MAX_LISTED_ERRORS: usize = 1_000;
const CHUNK: usize = 64 * 1024;

/// The text encoding of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 if the start of the file is valid UTF-8 (or has a UTF-8 BOM), else Windows-1251.
    Auto,
    Utf8,
    Windows1251,
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub encoding: Encoding,
    /// The ISP's currency: balances are in it.
    pub currency: Currency,
}

/// One problem with one line of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// 1-based; the header is line 1.
    pub line: u64,
    /// The column, when the problem is one field's.
    pub column: Option<String>,
    /// Stable: `column_count`, `required`, `invalid_email`, `unknown_tariff`, `duplicate_account` …
    pub code: &'static str,
    pub message: String,
}

/// What an import did (or, for a dry run or a file with errors, would have done).
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// `utf-8` or `windows-1251`: how the file was read.
    pub encoding: &'static str,
    pub delimiter: char,
    /// Data rows read (blank lines aside).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// The first [`MAX_LISTED_ERRORS`] problems, in file order.
    pub errors: Vec<RowError>,
    /// All problems, listed or not.
    pub error_count: u64,
    /// Rows imported with something left undone: an account's opening balance already on the
    /// ledger with another amount is not posted again (balances change through payments and
    /// corrections).
    pub warnings: Vec<RowError>,
}

impl ImportReport {
    /// No problem found: the import may be committed.
    pub fn is_clean(&self) -> bool {
        self.error_count == 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading the file: {0}")]
    Read(#[from] std::io::Error),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Billing(#[from] BillingError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    AccountNumber,
    Name,
    Email,
    Phone,
    Address,
    Tariff,
    Balance,
    Status,
}

impl Column {
    fn parse(raw: &str) -> Option<Self> {
        let name = raw.trim().trim_start_matches('\u{feff}').to_lowercase();
        Some(match name.as_str() {
            "account_number" | "account" => Self::AccountNumber,
            "name" | "full_name" => Self::Name,
            "email" | "e-mail" => Self::Email,
            "phone" => Self::Phone,
            "address" => Self::Address,
            "tariff" => Self::Tariff,
            "balance" => Self::Balance,
            "status" => Self::Status,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::AccountNumber => "account_number",
            Self::Name => "name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Address => "address",
            Self::Tariff => "tariff",
            Self::Balance => "balance",
            Self::Status => "status",
        }
    }
}

/// Where each known column is in a record, and how many fields a record has.
#[derive(Clone, Copy, Debug)]
struct Layout {
    fields: usize,
    position: [Option<usize>; 8],
    broken: bool,
}

impl Layout {
    fn get<'f>(&self, fields: &[&'f str], column: Column) -> Option<&'f str> {
        self.position[column as usize].map(|i| fields[i].trim())
    }
}

/// A valid row waiting for its batch.
struct Pending {
    line: u64,
    subscriber: ImportedSubscriber,
    tariff: Option<String>,
    staff_blocked: bool,
    balance: i64,
}

struct Run<'a> {
    tx: &'a mut TenantTx,
    currency: Currency,
    tariffs: HashSet<String>,
    layout: Option<Layout>,
    seen_accounts: HashMap<String, u64>,
    seen_emails: HashMap<String, u64>,
    seen_phones: HashMap<String, u64>,
    batch: Vec<Pending>,
    report: ImportReport,
}

fn error(line: u64, column: Option<&str>, code: &'static str, message: String) -> RowError {
    RowError {
        line,
        column: column.map(str::to_owned),
        code,
        message,
    }
}

/// A balance as spreadsheets write it: `1250.50`, `-300`, `1 250,50` (a decimal comma, spaces
/// or non-breaking spaces between thousands).
fn parse_balance(raw: &str) -> Result<i64, String> {
    let mut text: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    if !text.contains('.') && text.matches(',').count() == 1 {
        text = text.replace(',', ".");
    }
    Amount::parse(&text).map(|a| a.0)
}

fn parse_status(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "" | "active" | "активен" | "активный" => Some(false),
        "blocked" | "заблокирован" | "блокирован" => Some(true),
        _ => None,
    }
}

impl Run<'_> {
    fn fail(&mut self, e: RowError) {
        self.report.error_count += 1;
        if self.report.errors.len() < MAX_LISTED_ERRORS {
            self.report.errors.push(e);
        }
    }

    fn header(&mut self, fields: &[&str]) {
        let problems_before = self.report.error_count;
        let mut columns = Vec::with_capacity(fields.len());
        for raw in fields {
            match Column::parse(raw) {
                Some(c) if columns.contains(&c) => self.fail(error(
                    1,
                    Some(c.name()),
                    "duplicate_column",
                    format!("column {:?} appears twice", c.name()),
                )),
                Some(c) => columns.push(c),
                None => self.fail(error(
                    1,
                    Some(raw.trim()),
                    "unknown_column",
                    format!(
                        "unknown column {:?}; the columns are account_number, name, email, phone, \
                         address, tariff, balance, status",
                        raw.trim()
                    ),
                )),
            }
        }
        for required in [Column::AccountNumber, Column::Name] {
            if !columns.contains(&required) {
                self.fail(error(
                    1,
                    Some(required.name()),
                    "missing_column",
                    format!("the header has no {:?} column", required.name()),
                ));
            }
        }
        let mut position = [None; 8];
        for (i, c) in columns.iter().enumerate() {
            position[*c as usize] = Some(i);
        }
        self.layout = Some(Layout {
            fields: fields.len(),
            position,
            // Rows read against a wrong header would only repeat its problem on every line.
            broken: self.report.error_count > problems_before,
        });
    }

    async fn record(&mut self, line: u64, fields: &[&str]) -> Result<(), ImportError> {
        let Some(layout) = self.layout else {
            self.header(fields);
            return Ok(());
        };
        if fields.iter().all(|f| f.trim().is_empty()) {
            return Ok(());
        }
        self.report.rows += 1;
        if layout.broken {
            return Ok(());
        }
        if fields.len() != layout.fields {
            let expected = layout.fields;
            self.fail(error(
                line,
                None,
                "column_count",
                format!("expected {expected} fields, found {}", fields.len()),
            ));
            return Ok(());
        }
        let get = |c: Column| layout.get(fields, c);
        let mut problems = Vec::new();
        let account = match parse_account_number(get(Column::AccountNumber).unwrap_or_default()) {
            Ok(a) => Some(a),
            Err(p) => {
                problems.push(error(line, Some(p.field), p.code, p.message));
                None
            }
        };
        let contact = match Contact::parse(
            get(Column::Name).unwrap_or_default(),
            get(Column::Email),
            get(Column::Phone),
            get(Column::Address),
        ) {
            Ok(c) => Some(c),
            Err(ps) => {
                problems.extend(
                    ps.into_iter()
                        .map(|p| error(line, Some(p.field), p.code, p.message)),
                );
                None
            }
        };
        let tariff = get(Column::Tariff)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if let Some(t) = &tariff
            && !self.tariffs.contains(t)
        {
            problems.push(error(
                line,
                Some("tariff"),
                "unknown_tariff",
                format!("no tariff with code {t:?}"),
            ));
        }
        let balance = match get(Column::Balance).filter(|b| !b.is_empty()) {
            Some(raw) => parse_balance(raw).unwrap_or_else(|_| {
                problems.push(error(
                    line,
                    Some("balance"),
                    "invalid_amount",
                    format!("{raw:?} is not an amount like 1250.50"),
                ));
                0
            }),
            None => 0,
        };
        let staff_blocked = match get(Column::Status) {
            Some(raw) => parse_status(raw).unwrap_or_else(|| {
                problems.push(error(
                    line,
                    Some("status"),
                    "invalid_status",
                    format!("{raw:?} is not a status: active or blocked"),
                ));
                false
            }),
            None => false,
        };
        if let Some(a) = &account
            && let Some(first) = self.seen_accounts.get(a)
        {
            problems.push(error(
                line,
                Some("account_number"),
                "duplicate_account",
                format!("account {a} is also on line {first}"),
            ));
        }
        if let Some(c) = &contact {
            for (field, value, seen) in [
                ("email", &c.email, &self.seen_emails),
                ("phone", &c.phone, &self.seen_phones),
            ] {
                if let Some(v) = value
                    && let Some(first) = seen.get(v)
                {
                    problems.push(error(
                        line,
                        Some(field),
                        if field == "email" {
                            "duplicate_email"
                        } else {
                            "duplicate_phone"
                        },
                        format!("{v} is also on line {first}"),
                    ));
                }
            }
        }
        // Remembered even when the row is invalid, so a duplicate is reported on both lines'
        // terms (the second names the first).
        if let Some(a) = &account {
            self.seen_accounts.entry(a.clone()).or_insert(line);
        }
        if let Some(c) = &contact {
            if let Some(e) = &c.email {
                self.seen_emails.entry(e.clone()).or_insert(line);
            }
            if let Some(p) = &c.phone {
                self.seen_phones.entry(p.clone()).or_insert(line);
            }
        }
        let (Some(account_number), Some(contact)) = (account, contact) else {
            problems.into_iter().for_each(|p| self.fail(p));
            return Ok(());
        };
        if !problems.is_empty() {
            problems.into_iter().for_each(|p| self.fail(p));
            return Ok(());
        }
        self.batch.push(Pending {
            line,
            subscriber: ImportedSubscriber {
                account_number,
                contact,
            },
            tariff,
            staff_blocked,
            balance,
        });
        if self.batch.len() >= BATCH_ROWS {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the batch, unless a problem was found already: then the import will not be
    /// committed, and the rest of the file is only checked.
    async fn flush(&mut self) -> Result<(), ImportError> {
        let batch = std::mem::take(&mut self.batch);
        if batch.is_empty() || !self.report.is_clean() {
            return Ok(());
        }
        let subscribers: Vec<ImportedSubscriber> =
            batch.iter().map(|p| p.subscriber.clone()).collect();
        let conflicts = contact_conflicts(self.tx, &subscribers).await?;
        if !conflicts.is_empty() {
            for (i, field) in conflicts {
                let p = &batch[i];
                self.fail(error(
                    p.line,
                    Some(field),
                    if field == "email" {
                        "email_taken"
                    } else {
                        "phone_taken"
                    },
                    format!(
                        "this {} belongs to another subscriber of the ISP",
                        if field == "email" { "e-mail" } else { "phone" }
                    ),
                ));
            }
            return Ok(());
        }
        let upserted = upsert_subscribers(self.tx, &subscribers).await?;
        let seeds: Vec<AccountSeed> = batch
            .iter()
            .zip(&upserted)
            .map(|(p, u)| AccountSeed {
                subscriber: u.id,
                account_number: p.subscriber.account_number.clone(),
                tariff_code: p.tariff.clone(),
                staff_blocked: p.staff_blocked,
                opening_balance: p.balance,
            })
            .collect();
        let seeded = seed_accounts(self.tx, &seeds, self.currency).await?;
        for ((p, u), s) in batch.iter().zip(&upserted).zip(&seeded) {
            if u.created {
                self.report.created += 1;
            } else if u.changed || s.changed {
                self.report.updated += 1;
            } else {
                self.report.unchanged += 1;
            }
            if s.opening_balance_skipped {
                self.report.warnings.push(error(
                    p.line,
                    Some("balance"),
                    "opening_balance_recorded",
                    format!(
                        "account {} already has another opening balance; it was not posted again",
                        p.subscriber.account_number
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Reads `len` bytes or up to EOF; returns how many were read.
async fn fill<R: AsyncRead + Unpin>(body: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = body.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

fn choose_encoding(start: &[u8], complete: bool, wanted: Encoding) -> &'static TextEncoding {
    if start.starts_with(b"\xEF\xBB\xBF") {
        return UTF_8;
    }
    match wanted {
        Encoding::Utf8 => UTF_8,
        Encoding::Windows1251 => WINDOWS_1251,
        Encoding::Auto => match std::str::from_utf8(start) {
            Ok(_) => UTF_8,
            // Cut in the middle of a character by the chunk boundary: still UTF-8.
            Err(e) if e.error_len().is_none() && !complete => UTF_8,
            Err(_) => WINDOWS_1251,
        },
    }
}

/// `;` when the header line has more semicolons than commas (Russian Excel), else `,`.
fn choose_delimiter(text: &[u8]) -> u8 {
    let header = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |d: u8| header.iter().filter(|b| **b == d).count();
    if count(b';') > count(b',') {
        b';'
    } else {
        b','
    }
}

/// Decodes `src` to UTF-8 into `out`; `false` when it is not valid in the encoding.
fn decode(decoder: &mut encoding_rs::Decoder, src: &[u8], last: bool, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut src = src;
    loop {
        let room = decoder
            .max_utf8_buffer_length_without_replacement(src.len())
            .unwrap_or(src.len() * 3 + 16)
            .max(16);
        let start = out.len();
        out.resize(start + room, 0);
        let (result, read, written) =
            decoder.decode_to_utf8_without_replacement(src, &mut out[start..], last);
        out.truncate(start + written);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => return true,
            DecoderResult::Malformed(_, _) => return false,
            DecoderResult::OutputFull => continue,
        }
    }
}

/// The fields of a record csv-core has written to `record`, ending at `ends`.
fn split<'a>(record: &'a [u8], ends: &[usize]) -> Vec<&'a str> {
    let mut fields = Vec::with_capacity(ends.len());
    let mut start = 0;
    for &end in ends {
        // INVARIANT: the input was decoded to UTF-8 and csv-core splits only at ASCII bytes
        // (delimiter, quote, line ends), so every field is valid UTF-8.
        fields.push(std::str::from_utf8(&record[start..end]).unwrap_or_default());
        start = end;
    }
    fields
}

/// The line a record starts on, from csv-core's count of `\n` read so far: a record ended by
/// `\n` ends on the line before, one ended by `\r` (the `\n` of a CRLF is read with the next
/// record) or by the end of the file on this one; line breaks inside quoted fields go back.
fn record_line(lines_read: u64, ended_by_lf: bool, record: &[u8]) -> u64 {
    let inside = record.iter().filter(|b| **b == b'\n').count() as u64;
    lines_read
        .saturating_sub(u64::from(ended_by_lf))
        .saturating_sub(inside)
        .max(1)
}

/// Imports the CSV in `body` into `tx`'s tenant. Row problems are in the report, not errors:
/// an `Err` means the import could not run (the body could not be read, the database failed).
pub async fn import_subscribers<R: AsyncRead + Unpin>(
    tx: &mut TenantTx,
    mut body: R,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let tariffs = tariff_codes(tx).await?;
    let mut raw = vec![0u8; CHUNK];
    let mut len = fill(&mut body, &mut raw).await?;
    let mut eof = len < raw.len();
    let encoding = choose_encoding(&raw[..len], eof, options.encoding);
    // `new_decoder` removes a BOM (and a UTF-8 BOM wins over an explicit Windows-1251).
    let mut decoder = encoding.new_decoder();
    let mut text = Vec::with_capacity(CHUNK * 2);
    let mut decoded = decode(&mut decoder, &raw[..len], eof, &mut text);
    let delimiter = choose_delimiter(&text);
    let mut run = Run {
        tx,
        currency: options.currency,
        tariffs,
        layout: None,
        seen_accounts: HashMap::new(),
        seen_emails: HashMap::new(),
        seen_phones: HashMap::new(),
        batch: Vec::with_capacity(BATCH_ROWS),
        report: ImportReport {
            encoding: if encoding == UTF_8 {
                "utf-8"
            } else {
                "windows-1251"
            },
            delimiter: delimiter as char,
            ..Default::default()
        },
    };
    let mut csv = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut out = vec![0u8; 4096];
    let mut ends = vec![0usize; 32];
    let (mut outlen, mut endlen) = (0, 0);
    'chunks: loop {
        if !decoded {
            let line = csv.line();
            run.fail(error(
                line,
                None,
                "invalid_encoding",
                format!(
                    "the file is not valid {} here; choose the file's encoding explicitly",
                    if encoding == UTF_8 {
                        "UTF-8"
                    } else {
                        "Windows-1251"
                    }
                ),
            ));
            break;
        }
        // csv-core takes empty input for the end of the file, so it only ever gets the end
        // once `eof` says so.
        let mut input = text.as_slice();
        while !input.is_empty() || eof {
            let (result, nin, nout, nend) =
                csv.read_record(input, &mut out[outlen..], &mut ends[endlen..]);
            let ended_by_lf = nin > 0 && input[nin - 1] == b'\n';
            input = &input[nin..];
            outlen += nout;
            endlen += nend;
            match result {
                csv_core::ReadRecordResult::InputEmpty if eof && input.is_empty() && nin == 0 => {
                    break 'chunks;
                }
                csv_core::ReadRecordResult::InputEmpty => {}
                csv_core::ReadRecordResult::OutputFull => out.resize(out.len() * 2, 0),
                csv_core::ReadRecordResult::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                csv_core::ReadRecordResult::Record => {
                    let record = &out[..outlen];
                    let line = record_line(csv.line(), ended_by_lf, record);
                    let fields = split(record, &ends[..endlen]);
                    run.record(line, &fields).await?;
                    outlen = 0;
                    endlen = 0;
                }
                csv_core::ReadRecordResult::End => break 'chunks,
            }
        }
        len = fill(&mut body, &mut raw).await?;
        eof = len < raw.len();
        decoded = decode(&mut decoder, &raw[..len], eof, &mut text);
    }
    if run.layout.is_none() {
        run.fail(error(
            1,
            None,
            "empty_file",
            "the file is empty: the first line must name the columns".into(),
        ));
    }
    run.flush().await?;
    Ok(run.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_as_spreadsheets_write_them() {
        assert_eq!(parse_balance("1250.50"), Ok(125_050));
        assert_eq!(parse_balance("1 250,5"), Ok(125_050));
        assert_eq!(parse_balance("-300"), Ok(-30_000));
        assert_eq!(parse_balance("1\u{a0}000"), Ok(100_000));
        for bad in ["abc", "1,2,3", "1.234", "1e3"] {
            assert!(parse_balance(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn records_know_the_line_they_start_on() {
        let lines = |csv: &[u8]| {
            let mut reader = csv_core::ReaderBuilder::new().build();
            let (mut out, mut ends) = ([0u8; 256], [0usize; 16]);
            let (mut input, mut found) = (csv, Vec::new());
            let (mut outlen, mut endlen) = (0, 0);
            loop {
                let (result, nin, nout, nend) =
                    reader.read_record(input, &mut out[outlen..], &mut ends[endlen..]);
                let ended_by_lf = nin > 0 && input[nin - 1] == b'\n';
                input = &input[nin..];
                outlen += nout;
                endlen += nend;
                match result {
                    csv_core::ReadRecordResult::Record => {
                        assert_eq!(split(&out[..outlen], &ends[..endlen]).len(), 2);
                        found.push(record_line(reader.line(), ended_by_lf, &out[..outlen]));
                        (outlen, endlen) = (0, 0);
                    }
                    csv_core::ReadRecordResult::End => return found,
                    _ => {}
                }
            }
        };
        assert_eq!(lines(b"a,b\nc,d\n\ne,f"), [1, 2, 4]);
        assert_eq!(lines(b"a,b\r\nc,d\r\ne,f\r\n"), [1, 2, 3]);
        assert_eq!(lines(b"a,b\n\"x\ny\",d\ne,f\n"), [1, 2, 4]);
    }

    #[test]
    fn encoding_and_delimiter_are_detected() {
        let cp1251 = b"account_number;name\n1;\xc8\xe2\xe0\xed\n";
        assert_eq!(choose_encoding(cp1251, true, Encoding::Auto), WINDOWS_1251);
        assert_eq!(choose_delimiter(cp1251), b';');
        let utf8 = "account_number,name\n1,Иван\n".as_bytes();
        assert_eq!(choose_encoding(utf8, true, Encoding::Auto), UTF_8);
        // A chunk cut inside a character is still UTF-8 when more follows.
        assert_eq!(choose_encoding(&utf8[..23], false, Encoding::Auto), UTF_8);
        assert_eq!(choose_delimiter(utf8), b',');
        assert_eq!(
            choose_encoding(b"\xEF\xBB\xBFa", true, Encoding::Windows1251),
            UTF_8
        );
        assert_eq!(parse_status("Заблокирован"), Some(true));
        assert_eq!(parse_status(""), Some(false));
        assert_eq!(parse_status("gone"), None);
    }
}
