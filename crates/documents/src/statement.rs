//! The statement of account (выписка по лицевому счёту) as a PDF: the ISP's name and colour,
//! who and which period, the four totals, and every movement with its date in the ISP's time
//! zone. Long tables continue on further pages under a repeated header; every page is numbered.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use kabinet_billing::{Statement, TransactionKind};
use kabinet_core::Money;

use crate::DocumentError;
use crate::pdf::{PAGE_HEIGHT, PAGE_WIDTH, PdfWriter, Rgb, Weight};

/// The language a document is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Ru,
    En,
}

/// Everything printed on a statement besides the movements themselves.
pub struct StatementPdf<'a> {
    pub isp_name: &'a str,
    /// `#rrggbb`; the ISP's primary colour for the title and the table header.
    pub brand_colour: Option<&'a str>,
    /// Support contacts printed in the footer ("support@isp.example · +7 …").
    pub support: Option<String>,
    pub subscriber_name: &'a str,
    pub account_number: &'a str,
    /// The period as the subscriber asked for it, both days inclusive.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub statement: &'a Statement,
    pub language: Language,
    pub time_zone: Tz,
    pub generated_at: DateTime<Utc>,
}

const MARGIN: f32 = 42.0;
const BODY: f32 = 9.0;
const ROW: f32 = 13.0;
const BOTTOM: f32 = PAGE_HEIGHT - 56.0;
const GREY: Rgb = Rgb(0.42, 0.45, 0.5);
const RULE: Rgb = Rgb(0.85, 0.87, 0.9);
const DEFAULT_BRAND: Rgb = Rgb(0.1, 0.32, 0.62);

/// Table columns: date, operation, description, amount (right-aligned at the right margin).
const COL_DATE: f32 = MARGIN;
const COL_KIND: f32 = MARGIN + 94.0;
const COL_TEXT: f32 = MARGIN + 200.0;
const COL_AMOUNT_RIGHT: f32 = PAGE_WIDTH - MARGIN;
const TEXT_WIDTH: f32 = COL_AMOUNT_RIGHT - 86.0 - COL_TEXT;

pub fn render_statement(doc: &StatementPdf) -> Result<Vec<u8>, DocumentError> {
    let words = Words::of(doc.language);
    let brand = doc
        .brand_colour
        .and_then(Rgb::from_hex)
        .unwrap_or(DEFAULT_BRAND);
    let title = format!("{} — {}", words.title, doc.isp_name);
    let mut pdf = PdfWriter::new(&title)?;
    pdf.add_page();

    // Heading: the ISP, then what this is.
    pdf.fill(0.0, 0.0, PAGE_WIDTH, 6.0, brand);
    let isp = pdf.fit(doc.isp_name, Weight::Bold, 16.0, PAGE_WIDTH - 2.0 * MARGIN);
    pdf.text(MARGIN, 46.0, &isp, Weight::Bold, 16.0, brand);
    pdf.text(MARGIN, 70.0, words.title, Weight::Bold, 12.0, Rgb::BLACK);

    let mut y = 94.0;
    let date = |d: NaiveDate| format_day(d, doc.language);
    let generated = doc.generated_at.with_timezone(&doc.time_zone);
    let facts = [
        (words.subscriber, doc.subscriber_name.to_owned()),
        (words.account, doc.account_number.to_owned()),
        (
            words.period,
            format!("{} — {}", date(doc.first_day), date(doc.last_day)),
        ),
        (
            words.generated,
            format!(
                "{} {} ({})",
                date(generated.date_naive()),
                generated.format("%H:%M"),
                doc.time_zone.name()
            ),
        ),
    ];
    for (label, value) in facts {
        pdf.text(MARGIN, y, label, Weight::Regular, BODY, GREY);
        let value = pdf.fit(&value, Weight::Regular, BODY, PAGE_WIDTH - MARGIN - 150.0);
        pdf.text(MARGIN + 108.0, y, &value, Weight::Regular, BODY, Rgb::BLACK);
        y += ROW;
    }

    // The four totals. Charged and received are sums of the movements, so opening + received
    // − charged = closing, which a reader can check by hand.
    y += 10.0;
    let s = doc.statement;
    let currency = s.opening.currency;
    let (mut received, mut charged) = (0_i64, 0_i64);
    for item in &s.items {
        if item.amount.minor >= 0 {
            received += item.amount.minor;
        } else {
            charged -= item.amount.minor;
        }
    }
    let totals = [
        (words.opening, s.opening),
        (words.received, Money::new(received, currency)),
        (words.charged, Money::new(charged, currency)),
        (words.closing, s.closing),
    ];
    let box_width = (PAGE_WIDTH - 2.0 * MARGIN) / 4.0;
    pdf.fill(
        MARGIN,
        y,
        PAGE_WIDTH - 2.0 * MARGIN,
        40.0,
        Rgb(0.96, 0.97, 0.98),
    );
    for (i, (label, money)) in totals.iter().enumerate() {
        let x = MARGIN + box_width * i as f32 + 10.0;
        pdf.text(x, y + 15.0, label, Weight::Regular, 8.0, GREY);
        let weight = if i == 3 {
            Weight::Bold
        } else {
            Weight::Regular
        };
        pdf.text(
            x,
            y + 31.0,
            &format_money(*money, doc.language, false),
            weight,
            11.0,
            Rgb::BLACK,
        );
    }
    y += 62.0;

    // The movements.
    y = table_header(&mut pdf, &words, y, brand);
    if s.items.is_empty() {
        pdf.text(MARGIN, y, words.no_movements, Weight::Regular, BODY, GREY);
    }
    for item in &s.items {
        let kind = pdf.fit(
            words.kind(item.kind),
            Weight::Regular,
            BODY,
            COL_TEXT - COL_KIND - 8.0,
        );
        let description = describe(&item.description, doc.language);
        let mut lines = pdf.wrap(&description, Weight::Regular, BODY, TEXT_WIDTH);
        lines.truncate(3);
        let height = ROW * lines.len().max(1) as f32;
        if y + height > BOTTOM {
            pdf.add_page();
            y = table_header(&mut pdf, &words, MARGIN, brand);
        }
        let at = item.at.with_timezone(&doc.time_zone);
        pdf.text(
            COL_DATE,
            y,
            &format!("{} {}", date(at.date_naive()), at.format("%H:%M")),
            Weight::Regular,
            BODY,
            Rgb::BLACK,
        );
        pdf.text(COL_KIND, y, &kind, Weight::Regular, BODY, Rgb::BLACK);
        for (n, line) in lines.iter().enumerate() {
            pdf.text(
                COL_TEXT,
                y + ROW * n as f32,
                line,
                Weight::Regular,
                BODY,
                GREY,
            );
        }
        let amount = format_money(item.amount, doc.language, true);
        let colour = if item.amount.minor < 0 {
            Rgb::BLACK
        } else {
            Rgb(0.05, 0.45, 0.2)
        };
        pdf.text_right(COL_AMOUNT_RIGHT, y, &amount, Weight::Regular, BODY, colour);
        y += height;
        pdf.rule(MARGIN, COL_AMOUNT_RIGHT, y - ROW + 4.0, 0.4, RULE);
    }
    if y + 2.0 * ROW > BOTTOM {
        pdf.add_page();
        y = MARGIN;
    }
    y += 6.0;
    pdf.text(MARGIN, y, words.closing, Weight::Bold, BODY, Rgb::BLACK);
    pdf.text_right(
        COL_AMOUNT_RIGHT,
        y,
        &format_money(s.closing, doc.language, false),
        Weight::Bold,
        BODY,
        Rgb::BLACK,
    );

    // Footers, now that the page count is known.
    let pages = pdf.page_count();
    for page in 0..pages {
        pdf.on_page(page);
        let footer_y = PAGE_HEIGHT - 30.0;
        pdf.rule(MARGIN, PAGE_WIDTH - MARGIN, footer_y - 12.0, 0.4, RULE);
        let left = match &doc.support {
            Some(support) => format!("{} · {support}", doc.isp_name),
            None => doc.isp_name.to_owned(),
        };
        let left = pdf.fit(
            &left,
            Weight::Regular,
            7.5,
            PAGE_WIDTH - 2.0 * MARGIN - 90.0,
        );
        pdf.text(MARGIN, footer_y, &left, Weight::Regular, 7.5, GREY);
        let numbering = words.page(page + 1, pages);
        pdf.text_right(
            PAGE_WIDTH - MARGIN,
            footer_y,
            &numbering,
            Weight::Regular,
            7.5,
            GREY,
        );
    }
    pdf.finish()
}

fn table_header(pdf: &mut PdfWriter, words: &Words, y: f32, brand: Rgb) -> f32 {
    pdf.fill(MARGIN, y, PAGE_WIDTH - 2.0 * MARGIN, 18.0, brand);
    let white = Rgb(1.0, 1.0, 1.0);
    let baseline = y + 12.5;
    pdf.text(
        COL_DATE + 4.0,
        baseline,
        words.date,
        Weight::Bold,
        8.5,
        white,
    );
    pdf.text(
        COL_KIND,
        baseline,
        words.operation,
        Weight::Bold,
        8.5,
        white,
    );
    pdf.text(COL_TEXT, baseline, words.details, Weight::Bold, 8.5, white);
    pdf.text_right(
        COL_AMOUNT_RIGHT - 4.0,
        baseline,
        words.amount,
        Weight::Bold,
        8.5,
        white,
    );
    y + 18.0 + ROW
}

struct Words {
    language: Language,
    title: &'static str,
    subscriber: &'static str,
    account: &'static str,
    period: &'static str,
    generated: &'static str,
    opening: &'static str,
    received: &'static str,
    charged: &'static str,
    closing: &'static str,
    date: &'static str,
    operation: &'static str,
    details: &'static str,
    amount: &'static str,
    no_movements: &'static str,
}

impl Words {
    fn of(language: Language) -> Self {
        match language {
            Language::Ru => Self {
                language,
                title: "Выписка по лицевому счёту",
                subscriber: "Абонент",
                account: "Лицевой счёт",
                period: "Период",
                generated: "Сформирована",
                opening: "Остаток на начало",
                received: "Поступило",
                charged: "Списано",
                closing: "Остаток на конец",
                date: "Дата",
                operation: "Операция",
                details: "Описание",
                amount: "Сумма",
                no_movements: "За период движений по счёту не было.",
            },
            Language::En => Self {
                language,
                title: "Statement of account",
                subscriber: "Subscriber",
                account: "Account",
                period: "Period",
                generated: "Generated",
                opening: "Opening balance",
                received: "Received",
                charged: "Charged",
                closing: "Closing balance",
                date: "Date",
                operation: "Operation",
                details: "Details",
                amount: "Amount",
                no_movements: "No movements in this period.",
            },
        }
    }

    fn kind(&self, kind: TransactionKind) -> &'static str {
        use TransactionKind::*;
        match (self.language, kind) {
            (Language::Ru, OpeningBalance) => "Начальный остаток",
            (Language::Ru, Payment) => "Платёж",
            (Language::Ru, Charge) => "Списание",
            (Language::Ru, Refund) => "Возврат",
            (Language::Ru, Correction) => "Корректировка",
            (Language::Ru, Reversal) => "Сторно",
            (Language::Ru, PromisedCredit) => "Обещанный платёж",
            (Language::Ru, PromisedRepayment) => "Погашение",
            (Language::En, OpeningBalance) => "Opening balance",
            (Language::En, Payment) => "Payment",
            (Language::En, Charge) => "Charge",
            (Language::En, Refund) => "Refund",
            (Language::En, Correction) => "Correction",
            (Language::En, Reversal) => "Reversal",
            (Language::En, PromisedCredit) => "Promised payment",
            (Language::En, PromisedRepayment) => "Repayment",
        }
    }

    fn page(&self, n: usize, of: usize) -> String {
        match self.language {
            Language::Ru => format!("Страница {n} из {of}"),
            Language::En => format!("Page {n} of {of}"),
        }
    }
}

/// `1 234,56` (ru) or `1,234.56` (en), with the currency code; `signed` puts `+`/`−` in front.
pub fn format_money(money: Money, language: Language, signed: bool) -> String {
    let abs = money.minor.unsigned_abs();
    let (group, decimal) = match language {
        Language::Ru => ('\u{a0}', ','),
        Language::En => (',', '.'),
    };
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = match (signed, money.minor.signum()) {
        (_, -1) => "−",
        (true, 1) => "+",
        _ => "",
    };
    format!(
        "{sign}{grouped}{decimal}{:02}\u{a0}{}",
        abs % 100,
        money.currency.code()
    )
}

fn format_day(day: NaiveDate, language: Language) -> String {
    match language {
        Language::Ru => day.format("%d.%m.%Y").to_string(),
        Language::En => day.format("%Y-%m-%d").to_string(),
    }
}

/// The ledger writes its descriptions as fixed English phrases; the ones it writes itself are
/// put into the statement's language (as the web does), anything else is printed as written.
fn describe(text: &str, language: Language) -> String {
    if language == Language::En {
        return text.to_owned();
    }
    let fixed = [
        ("Payment in cash", "Наличными"),
        ("Payment by bank transfer", "Банковским переводом"),
        ("Payment by card", "Банковской картой"),
        ("Auto-pay top-up", "Автоплатёж"),
        ("Promised payment repaid", "Обещанный платёж погашен"),
        ("Promised payment ended", "Срок обещанного платежа истёк"),
        (
            "Voluntary suspension fee",
            "Плата за добровольную блокировку",
        ),
        ("Opening balance", "Начальный остаток"),
    ];
    if let Some((_, ru)) = fixed.iter().find(|(en, _)| *en == text) {
        return (*ru).to_owned();
    }
    if let Some(rest) = text.strip_prefix("Promised payment until ")
        && let Ok(day) = NaiveDate::parse_from_str(rest, "%Y-%m-%d")
    {
        return format!("Обещанный платёж до {}", format_day(day, language));
    }
    if let Some(rest) = text.strip_prefix("Correction: ") {
        return format!("Корректировка: {rest}");
    }
    if let Some(rest) = text.strip_prefix("Tariff change to ")
        && let Some((name, tail)) = rest.split_once(" from ")
        && let Some(day) = tail
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    {
        return format!("Смена тарифа на {name} с {}", format_day(day, language));
    }
    // "Tariff Home 100, 2026-11": the monthly charge.
    if let Some(rest) = text.strip_prefix("Tariff ")
        && let Some((name, month)) = rest.rsplit_once(", ")
        && let Some(month) = month_in_words(month)
    {
        return format!("Тариф {name}, {month}");
    }
    text.to_owned()
}

fn month_in_words(year_month: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "январь",
        "февраль",
        "март",
        "апрель",
        "май",
        "июнь",
        "июль",
        "август",
        "сентябрь",
        "октябрь",
        "ноябрь",
        "декабрь",
    ];
    let (year, month) = year_month.split_once('-')?;
    let year: i32 = year.parse().ok()?;
    let month: usize = month.parse().ok()?;
    if year_month.len() != 7 {
        return None;
    }
    Some(format!("{} {year}", MONTHS.get(month.checked_sub(1)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kabinet_billing::HistoryItem;
    use kabinet_core::Currency;

    fn rub(minor: i64) -> Money {
        Money::new(minor, Currency::parse("RUB").expect("RUB"))
    }

    #[test]
    fn money_is_grouped_per_language() {
        assert_eq!(
            format_money(rub(123_456_778), Language::Ru, false),
            "1\u{a0}234\u{a0}567,78\u{a0}RUB"
        );
        assert_eq!(format_money(rub(-5), Language::En, true), "−0.05\u{a0}RUB");
        assert_eq!(
            format_money(rub(100_000), Language::En, true),
            "+1,000.00\u{a0}RUB"
        );
        assert_eq!(format_money(rub(0), Language::En, true), "0.00\u{a0}RUB");
    }

    #[test]
    fn the_ledgers_phrases_are_translated_and_others_kept() {
        assert_eq!(describe("Payment in cash", Language::Ru), "Наличными");
        assert_eq!(
            describe("Tariff Дом 100, 2026-11", Language::Ru),
            "Тариф Дом 100, ноябрь 2026"
        );
        assert_eq!(
            describe("Promised payment until 2026-12-03", Language::Ru),
            "Обещанный платёж до 03.12.2026"
        );
        assert_eq!(describe("Ремонт кабеля", Language::Ru), "Ремонт кабеля");
        assert_eq!(describe("Payment in cash", Language::En), "Payment in cash");
    }

    #[test]
    fn a_long_statement_spans_numbered_pages() {
        let at = DateTime::parse_from_rfc3339("2026-11-03T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let items: Vec<HistoryItem> = (0..120)
            .map(|i| HistoryItem {
                transaction: uuid::Uuid::nil(),
                kind: if i % 2 == 0 {
                    TransactionKind::Payment
                } else {
                    TransactionKind::Charge
                },
                description: "Payment by card".into(),
                reference: None,
                amount: rub(if i % 2 == 0 { 10_000 } else { -9_000 }),
                at,
                reversed: false,
            })
            .collect();
        let statement = Statement {
            from: at,
            to: at,
            opening: rub(0),
            closing: rub(60 * 1_000),
            items,
        };
        let doc = StatementPdf {
            isp_name: "Демо Телеком",
            brand_colour: Some("#0b5fff"),
            support: Some("support@demo.example".into()),
            subscriber_name: "Иван Петров",
            account_number: "100001",
            first_day: NaiveDate::from_ymd_opt(2026, 11, 1).expect("day"),
            last_day: NaiveDate::from_ymd_opt(2026, 11, 30).expect("day"),
            statement: &statement,
            language: Language::Ru,
            time_zone: chrono_tz::Europe::Moscow,
            generated_at: at,
        };
        let bytes = render_statement(&doc).expect("pdf");
        if let Ok(path) = std::env::var("KABINET_DUMP_PDF") {
            std::fs::write(path, &bytes).expect("dump");
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/Count 3"), "120 rows need three A4 pages");
    }
}
