//! The manifest format and its parser. Errors name the file, the line and the field.

use std::path::{Path, PathBuf};

use base64::Engine;

use kabinet_access::Role;
use kabinet_core::Currency;
use kabinet_tenancy::{Host, Locale, Slug, TenantStatus};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::Amount;

/// One ISP, as declared in `tenants/<slug>.toml`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub slug: Slug,
    pub display_name: String,
    pub saas_plan: String,
    pub currency: Currency,
    #[serde(default = "default_locale")]
    pub default_locale: Locale,
    /// An IANA zone ("Europe/Moscow"): the ISP's calendar days for statements and dates.
    #[serde(default = "default_time_zone", deserialize_with = "iana_time_zone")]
    pub time_zone: String,
    #[serde(default = "default_status")]
    pub status: TenantStatus,
    #[serde(default)]
    pub custom_domains: Vec<CustomDomain>,
    #[serde(default)]
    pub branding: BrandingSpec,
    #[serde(default)]
    pub billing: Option<BillingRules>,
    #[serde(default)]
    pub payments: Option<PaymentsSpec>,
    #[serde(default)]
    pub staff: Vec<StaffEntry>,
    #[serde(default)]
    pub tariffs: Vec<TariffEntry>,
    #[serde(default)]
    pub addons: Vec<AddonEntry>,
    #[serde(default)]
    pub equipment: Vec<EquipmentEntry>,
    #[serde(default)]
    pub news: Vec<NewsEntry>,
    #[serde(default)]
    pub ticket_categories: Vec<TicketCategoryEntry>,
    #[serde(default, rename = "kb_article")]
    pub kb_articles: Vec<KbArticleEntry>,
    #[serde(default)]
    pub subscribers: Vec<SubscriberEntry>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AddonEntry {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub monthly_price: Amount,
}

/// `[[equipment]]`: an item of the ISP's equipment catalogue, sold (`purchase_price`), rented
/// (`monthly_rent`) or both. `stock` counts units on hand (left out: not counted, never out of
/// stock); applying sets it as written, like a stock-take.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EquipmentEntry {
    pub code: String,
    /// `router`, `ont`, `modem`, `tv_box`, `cable` or `other`.
    pub kind: EquipmentKindName,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub purchase_price: Option<Amount>,
    pub monthly_rent: Option<Amount>,
    pub stock: Option<i32>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// An equipment kind, checked while parsing.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct EquipmentKindName(pub kabinet_billing::EquipmentKind);

impl TryFrom<String> for EquipmentKindName {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        kabinet_billing::EquipmentKind::parse(&v)
            .map(Self)
            .ok_or_else(|| {
                let names: Vec<&str> = kabinet_billing::EquipmentKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect();
                format!("unknown kind {v:?}; kinds are {}", names.join(", "))
            })
    }
}

impl From<EquipmentKindName> for String {
    fn from(k: EquipmentKindName) -> String {
        k.0.as_str().to_owned()
    }
}

/// `[[ticket_categories]]`: one of the ISP's ticket categories, keyed by `code`
/// (`^[a-z][a-z0-9_]{1,39}$`, never changed). A new code adds a custom category of `kind` (one
/// of the nine built-in codes: `connectivity`, `speed`, `payments`, `tariff`, `addons`,
/// `equipment`, `complaint`, `account_security`, `other`; the kind drives behaviour such as
/// outage linking, and never changes once the category exists) with `name_ru` and/or `name_en`
/// (a custom category needs one; at most 80 characters). A built-in's code may be declared too,
/// with `kind` equal to its code, to rename it (no name: the built-in translation), move it or
/// switch it off. `position` (0–1000) orders the list (left out: a new category goes to the
/// end, an existing one stays put); `active = false` hides it from new tickets. Applied like
/// the console's editor; categories created in the console and not declared are left alone.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TicketCategoryEntry {
    pub code: String,
    pub kind: CategoryKindName,
    pub name_ru: Option<String>,
    pub name_en: Option<String>,
    pub position: Option<i32>,
    #[serde(default = "yes")]
    pub active: bool,
}

impl TicketCategoryEntry {
    /// The category as the ticketing crate applies it.
    pub fn spec(&self) -> kabinet_ticketing::categories::CategorySpec {
        kabinet_ticketing::categories::CategorySpec {
            code: self.code.clone(),
            kind: self.kind.0,
            name_ru: self.name_ru.clone(),
            name_en: self.name_en.clone(),
            position: self.position,
            active: self.active,
        }
    }

    fn problem(&self) -> Option<String> {
        use kabinet_ticketing::{Category, CategoryKind};
        let built_in = CategoryKind::parse(&self.code).is_some();
        let name_ok = |n: &Option<String>| {
            n.as_deref().is_none_or(|n| {
                n.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .count()
                    <= 80
            })
        };
        let named = |n: &Option<String>| n.as_deref().is_some_and(|n| !n.trim().is_empty());
        if Category::parse(&self.code).is_none() {
            Some(
                "codes are 2-40 characters: a lower-case letter, then lower-case letters, \
                 digits or '_'"
                    .into(),
            )
        } else if built_in && self.kind.0.as_str() != self.code {
            Some(format!(
                "{:?} is a built-in category: its kind is its own code",
                self.code
            ))
        } else if !built_in && !named(&self.name_ru) && !named(&self.name_en) {
            Some("a custom category needs a name_ru or a name_en".into())
        } else if !name_ok(&self.name_ru) || !name_ok(&self.name_en) {
            Some("names are at most 80 characters".into())
        } else if self.position.is_some_and(|p| !(0..=1000).contains(&p)) {
            Some("position must be between 0 and 1000".into())
        } else {
            None
        }
    }
}

/// A ticket category kind (a built-in code), checked while parsing.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryKindName(pub kabinet_ticketing::CategoryKind);

impl TryFrom<String> for CategoryKindName {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        use kabinet_ticketing::CategoryKind;
        CategoryKind::parse(&v).map(Self).ok_or_else(|| {
            let names: Vec<&str> = CategoryKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("unknown kind {v:?}; kinds are {}", names.join(", "))
        })
    }
}

impl From<CategoryKindName> for String {
    fn from(k: CategoryKindName) -> String {
        k.0.as_str().to_owned()
    }
}

/// `[[news]]`: a news post or promotion, keyed by `slug` so applying twice changes nothing.
/// Without `publish_at` it is published when first applied; `tariffs` limits it to subscribers
/// on those tariffs; `locale` (`ru`/`en`) to readers in that language.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewsEntry {
    pub slug: String,
    /// `news` (the default) or `promotion`.
    #[serde(default = "news_kind")]
    pub kind: String,
    pub title: String,
    pub body: String,
    pub locale: Option<String>,
    /// RFC 3339, e.g. `2026-12-01T09:00:00+03:00`.
    pub publish_at: Option<String>,
    pub expires_at: Option<String>,
    #[serde(default)]
    pub tariffs: Vec<String>,
    #[serde(default)]
    pub pinned: bool,
}

/// `[[kb_article]]`: a knowledge-base article, keyed by `slug` so applying twice changes
/// nothing. `locale` is `ru` or `en`; `category` one of the ticket categories, a built-in or one
/// declared in `[[ticket_categories]]` (it is suggested for tickets of that kind);
/// `published = false` keeps it a draft.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KbArticleEntry {
    pub slug: String,
    pub title: String,
    pub body: String,
    pub locale: String,
    pub category: Option<String>,
    #[serde(default = "yes")]
    pub published: bool,
}

impl KbArticleEntry {
    /// The article as the ticketing crate stores it.
    pub fn spec(&self) -> Result<kabinet_ticketing::kb::ArticleSpec, String> {
        use kabinet_ticketing::kb::{ArticleLocale, ArticleSpec};
        Ok(ArticleSpec {
            title: self.title.clone(),
            body: self.body.clone(),
            locale: ArticleLocale::parse(&self.locale)
                .ok_or_else(|| format!("locale {:?} is not ru or en", self.locale))?,
            category: match &self.category {
                // The shape here; parse_manifest checks it is a built-in or declared.
                Some(c) => Some(
                    kabinet_ticketing::Category::parse(c)
                        .ok_or_else(|| format!("category {c:?} is not a ticket category"))?,
                ),
                None => None,
            },
            published: self.published,
        })
    }
}

fn news_kind() -> String {
    "news".into()
}

impl NewsEntry {
    /// The post as the cabinet stores it; `now` stands in for a missing `publish_at`.
    pub fn spec(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<kabinet_cabinet::news::PostSpec, String> {
        use kabinet_cabinet::news::{PostKind, PostLocale, PostSpec};
        let time = |field: &str, raw: &Option<String>| {
            raw.as_deref()
                .map(|r| {
                    chrono::DateTime::parse_from_rfc3339(r)
                        .map(|t| t.with_timezone(&chrono::Utc))
                        .map_err(|e| format!("{field} {r:?} is not an RFC 3339 time: {e}"))
                })
                .transpose()
        };
        Ok(PostSpec {
            kind: PostKind::parse(&self.kind)
                .ok_or_else(|| format!("kind {:?} is not news or promotion", self.kind))?,
            title: self.title.clone(),
            body: self.body.clone(),
            locale: match &self.locale {
                Some(l) => Some(
                    PostLocale::parse(l).ok_or_else(|| format!("locale {l:?} is not ru or en"))?,
                ),
                None => None,
            },
            publish_at: time("publish_at", &self.publish_at)?.unwrap_or(now),
            expires_at: time("expires_at", &self.expires_at)?,
            target_tariffs: self.tariffs.clone(),
            pinned: self.pinned,
        })
    }
}

fn default_locale() -> Locale {
    Locale::Ru
}
fn default_time_zone() -> String {
    "Europe/Moscow".into()
}
fn iana_time_zone<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let raw = String::deserialize(d)?;
    raw.parse::<chrono_tz::Tz>().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown time zone {raw:?}: use an IANA name such as \"Europe/Moscow\""
        ))
    })?;
    Ok(raw)
}
fn default_status() -> TenantStatus {
    TenantStatus::Active
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDomain {
    pub host: Host,
    /// Demo data may declare a domain verified; real ones are verified by DNS TXT.
    #[serde(default)]
    pub verified: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BrandingSpec {
    pub primary_color: Option<Color>,
    pub accent_color: Option<Color>,
    /// A PNG or SVG file, relative to the manifest, at most 100 KiB; or the image inline as a
    /// `data:image/…;base64,…` URL (exports write it so).
    pub logo: Option<String>,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
}

/// A `#rrggbb` colour.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Color(String);

impl TryFrom<String> for Color {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        let ok =
            v.len() == 7 && v.starts_with('#') && v[1..].chars().all(|c| c.is_ascii_hexdigit());
        if ok {
            Ok(Self(v.to_ascii_lowercase()))
        } else {
            Err(format!("colours are written #rrggbb, got {v:?}"))
        }
    }
}

impl From<Color> for String {
    fn from(c: Color) -> String {
        c.0
    }
}

/// Online payments: the ISP's connected Stripe account and the platform's fee on each payment.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentsSpec {
    /// `acct_…`, the ISP's Stripe account (Stripe Connect).
    pub stripe_account: String,
    /// The platform's application fee in basis points (150 = 1.5 %).
    #[serde(default)]
    pub application_fee_bps: i32,
}

impl PaymentsSpec {
    fn problem(&self) -> Option<String> {
        let id = self.stripe_account.strip_prefix("acct_").unwrap_or("");
        if id.is_empty()
            || id.len() > 64
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Some(format!(
                "stripe_account {:?} is not a Stripe account id (acct_…)",
                self.stripe_account
            ));
        }
        if !(0..=5000).contains(&self.application_fee_bps) {
            return Some("application_fee_bps must be between 0 and 5000".into());
        }
        None
    }
}

/// The ISP's billing rules; anything left out keeps the platform default.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BillingRules {
    /// The largest promised payment ("0" turns them off).
    pub promised_payment_max: Option<Amount>,
    pub promised_payment_days: Option<i32>,
    pub promised_payments_per_month: Option<i32>,
    pub suspension_min_days: Option<i32>,
    pub suspension_max_days: Option<i32>,
    pub suspension_fee: Option<Amount>,
    /// `immediate_prorated` or `next_period` (the default).
    pub tariff_change: Option<TariffChange>,
    /// Whether an equipment purchase (or a rental's first charge) may take the balance below
    /// the credit limit, blocking the account until paid. Off by default: such orders are refused.
    pub equipment_on_credit: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TariffChange {
    ImmediateProrated,
    NextPeriod,
}

impl BillingRules {
    pub fn settings(&self) -> kabinet_billing::BillingSettings {
        let d = kabinet_billing::BillingSettings::default();
        kabinet_billing::BillingSettings {
            promised_payment_max_minor: self
                .promised_payment_max
                .map_or(d.promised_payment_max_minor, |a| a.0),
            promised_payment_days: self
                .promised_payment_days
                .unwrap_or(d.promised_payment_days),
            promised_payments_per_month: self
                .promised_payments_per_month
                .unwrap_or(d.promised_payments_per_month),
            suspension_min_days: self.suspension_min_days.unwrap_or(d.suspension_min_days),
            suspension_max_days: self.suspension_max_days.unwrap_or(d.suspension_max_days),
            suspension_fee_minor: self.suspension_fee.map_or(d.suspension_fee_minor, |a| a.0),
            tariff_change_rule: match self.tariff_change {
                Some(TariffChange::ImmediateProrated) => {
                    kabinet_billing::TariffChangeRule::ImmediateProrated
                }
                Some(TariffChange::NextPeriod) => kabinet_billing::TariffChangeRule::NextPeriod,
                None => d.tariff_change_rule,
            },
            equipment_on_credit: self.equipment_on_credit.unwrap_or(d.equipment_on_credit),
        }
    }

    fn problem(&self) -> Option<String> {
        let s = self.settings();
        if s.promised_payment_max_minor < 0 || s.suspension_fee_minor < 0 {
            return Some("amounts must not be negative".into());
        }
        if !(1..=30).contains(&s.promised_payment_days) {
            return Some("promised_payment_days must be 1-30".into());
        }
        if !(0..=10).contains(&s.promised_payments_per_month) {
            return Some("promised_payments_per_month must be 0-10".into());
        }
        if s.suspension_min_days < 1
            || s.suspension_max_days < s.suspension_min_days
            || s.suspension_max_days > 365
        {
            return Some("suspension days must satisfy 1 <= min <= max <= 365".into());
        }
        None
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaffEntry {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<RoleName>,
    /// For demo tenants only; real staff are invited and set their own password.
    pub initial_password: Option<String>,
}

/// A built-in role name, checked while parsing.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleName(pub Role);

impl TryFrom<String> for RoleName {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        Role::parse(&v).map(Self).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(Role::as_str).collect();
            format!("unknown role {v:?}; roles are {}", names.join(", "))
        })
    }
}

impl From<RoleName> for String {
    fn from(r: RoleName) -> String {
        r.0.as_str().to_owned()
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TariffEntry {
    pub code: String,
    pub name: String,
    pub monthly_price: Amount,
    /// Download speed (and upload, unless `upload_speed_mbps` is given), for RADIUS.
    pub speed_mbps: i32,
    /// Upload speed when it differs from the download speed (asymmetric plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_speed_mbps: Option<i32>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriberEntry {
    pub account_number: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub tariff: Option<Spanned<String>>,
    #[serde(default = "zero")]
    pub balance: Amount,
    #[serde(default = "zero")]
    pub credit_limit: Amount,
    #[serde(default = "active")]
    pub status: String,
    pub initial_password: Option<String>,
}

fn zero() -> Amount {
    Amount(0)
}
fn active() -> String {
    "active".into()
}

/// `tenants/_platform.toml`: the operator's own people.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformManifest {
    #[serde(default)]
    pub operators: Vec<OperatorEntry>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorEntry {
    pub email: String,
    pub display_name: String,
    pub initial_password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: PathBuf, message: String },
}

/// A manifest with where it came from (for messages and relative paths).
#[derive(Clone, Debug)]
pub struct ParsedManifest {
    pub file: PathBuf,
    pub manifest: Manifest,
    /// The logo as a `data:` URL, read and checked at parse time.
    pub logo_data_url: Option<String>,
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

/// The key at `offset` (`subscribers.tariff`), from the nearest table header and the
/// `key =` on that line.
fn field_at(src: &str, offset: usize) -> String {
    let before = &src[..offset.min(src.len())];
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = src[line_start..]
        .find('\n')
        .map(|i| line_start + i)
        .unwrap_or(src.len());
    let line = &src[line_start..line_end];
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_owned());
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    match (table, key) {
        (Some(t), Some(k)) => format!("{t}.{k}"),
        (None, Some(k)) => k,
        (Some(t), None) => t,
        (None, None) => "(document)".into(),
    }
}

fn invalid(file: &Path, src: &str, offset: usize, message: String) -> ManifestError {
    let (line, column) = line_col(src, offset);
    ManifestError::Invalid {
        file: file.to_owned(),
        line,
        column,
        field: field_at(src, offset),
        message,
    }
}

fn from_toml<T: serde::de::DeserializeOwned>(file: &Path, src: &str) -> Result<T, ManifestError> {
    toml::from_str(src).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        invalid(file, src, offset, e.message().trim().to_owned())
    })
}

/// Parses and checks one tenant manifest: syntax, types, cross-references, the logo.
pub fn parse_manifest(file: &Path, src: &str) -> Result<ParsedManifest, ManifestError> {
    let manifest: Manifest = from_toml(file, src)?;
    let at_key = |needle: &str| src.find(needle).unwrap_or(0);

    if file.file_stem().and_then(|s| s.to_str()) != Some(manifest.slug.as_str()) {
        return Err(invalid(
            file,
            src,
            at_key("slug"),
            format!(
                "the file must be named after the slug: {}.toml",
                manifest.slug
            ),
        ));
    }
    let tariff_codes: Vec<&str> = manifest.tariffs.iter().map(|t| t.code.as_str()).collect();
    for (i, t) in manifest.tariffs.iter().enumerate() {
        if tariff_codes[..i].contains(&t.code.as_str()) {
            return Err(invalid(
                file,
                src,
                at_key(&format!("\"{}\"", t.code)),
                format!("tariff code {:?} is declared twice", t.code),
            ));
        }
        if t.monthly_price.0 < 0 || t.speed_mbps <= 0 || t.upload_speed_mbps.is_some_and(|u| u <= 0)
        {
            return Err(invalid(
                file,
                src,
                at_key(&format!("\"{}\"", t.code)),
                "a tariff needs a price >= 0 and speeds > 0".into(),
            ));
        }
    }
    let mut accounts: Vec<&str> = Vec::new();
    for s in &manifest.subscribers {
        if accounts.contains(&s.account_number.as_str()) {
            return Err(invalid(
                file,
                src,
                at_key(&format!("\"{}\"", s.account_number)),
                format!("account number {:?} is declared twice", s.account_number),
            ));
        }
        accounts.push(&s.account_number);
        if let Some(tariff) = &s.tariff
            && !tariff_codes.contains(&tariff.get_ref().as_str())
        {
            return Err(invalid(
                file,
                src,
                tariff.span().start,
                format!(
                    "unknown tariff {:?}; declared tariffs: {}",
                    tariff.get_ref(),
                    tariff_codes.join(", ")
                ),
            ));
        }
        if kabinet_billing::AccountStatus::parse(&s.status).is_none() {
            return Err(invalid(
                file,
                src,
                at_key(&format!("\"{}\"", s.account_number)),
                format!(
                    "status {:?} is not one of active, blocked, suspended",
                    s.status
                ),
            ));
        }
    }
    let mut codes: Vec<&str> = Vec::new();
    for e in &manifest.equipment {
        let at = at_key(&format!("\"{}\"", e.code));
        if codes.contains(&e.code.as_str()) {
            return Err(invalid(
                file,
                src,
                at,
                format!("equipment code {:?} is declared twice", e.code),
            ));
        }
        codes.push(&e.code);
        let problem = if !is_code(&e.code) {
            Some("codes are 1-64 lower-case letters, digits, '-' or '_'")
        } else if e.purchase_price.is_none() && e.monthly_rent.is_none() {
            Some("an item needs a purchase_price, a monthly_rent or both")
        } else if e.purchase_price.is_some_and(|a| a.0 < 0)
            || e.monthly_rent.is_some_and(|a| a.0 < 0)
        {
            Some("prices must not be negative")
        } else if e.stock.is_some_and(|s| s < 0) {
            Some("stock must not be negative")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(invalid(file, src, at, problem.into()));
        }
    }
    let mut slugs: Vec<&str> = Vec::new();
    for n in &manifest.news {
        let at = at_key(&format!("\"{}\"", n.slug));
        if slugs.contains(&n.slug.as_str()) {
            return Err(invalid(
                file,
                src,
                at,
                format!("news slug {:?} is declared twice", n.slug),
            ));
        }
        slugs.push(&n.slug);
        if !is_code(&n.slug) {
            return Err(invalid(
                file,
                src,
                at,
                "slugs are 1-64 lower-case letters, digits, '-' or '_'".into(),
            ));
        }
        if let Some(unknown) = n
            .tariffs
            .iter()
            .find(|t| !tariff_codes.contains(&t.as_str()))
        {
            return Err(invalid(
                file,
                src,
                at,
                format!(
                    "unknown tariff {unknown:?}; declared tariffs: {}",
                    tariff_codes.join(", ")
                ),
            ));
        }
        if let Err(problem) = n.spec(chrono::Utc::now()) {
            return Err(invalid(file, src, at, problem));
        }
    }
    let mut category_codes: Vec<&str> = Vec::new();
    for c in &manifest.ticket_categories {
        let at = at_key(&format!("\"{}\"", c.code));
        let problem = if category_codes.contains(&c.code.as_str()) {
            Some(format!("ticket category {:?} is declared twice", c.code))
        } else {
            c.problem()
        };
        if let Some(problem) = problem {
            return Err(invalid(file, src, at, problem));
        }
        category_codes.push(&c.code);
    }
    let mut kb_slugs: Vec<&str> = Vec::new();
    for a in &manifest.kb_articles {
        let at = at_key(&format!("\"{}\"", a.slug));
        let problem = if kb_slugs.contains(&a.slug.as_str()) {
            Some(format!("kb_article slug {:?} is declared twice", a.slug))
        } else if !is_code(&a.slug) {
            Some("slugs are 1-64 lower-case letters, digits, '-' or '_'".into())
        } else if let Some(c) = a.category.as_deref().filter(|c| {
            kabinet_ticketing::CategoryKind::parse(c).is_none() && !category_codes.contains(c)
        }) {
            Some(format!(
                "category {c:?} is not a ticket category: neither built-in nor declared in \
                 [[ticket_categories]]"
            ))
        } else {
            a.spec().err()
        };
        if let Some(problem) = problem {
            return Err(invalid(file, src, at, problem));
        }
        kb_slugs.push(&a.slug);
    }
    if let Some(problem) = manifest.billing.as_ref().and_then(BillingRules::problem) {
        return Err(invalid(file, src, at_key("[billing]"), problem));
    }
    if let Some(problem) = manifest.payments.as_ref().and_then(PaymentsSpec::problem) {
        return Err(invalid(file, src, at_key("[payments]"), problem));
    }
    let logo_data_url = match &manifest.branding.logo {
        Some(rel) => Some(
            read_logo(file, rel).map_err(|message| invalid(file, src, at_key("logo"), message))?,
        ),
        None => None,
    };
    Ok(ParsedManifest {
        file: file.to_owned(),
        manifest,
        logo_data_url,
    })
}

/// A catalogue code or a slug, as the database checks it: `^[a-z0-9][a-z0-9_-]{0,63}$`.
fn is_code(raw: &str) -> bool {
    let mut chars = raw.chars();
    raw.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

const LOGO_MAX_BYTES: usize = 100 * 1024;

/// The logo as a `data:` URL: read from a file beside the manifest, or given inline as a
/// `data:image/…;base64,…` URL (what `kabinet tenants export` writes), checked the same way.
fn read_logo(manifest_file: &Path, rel: &str) -> Result<String, String> {
    let inline = rel.strip_prefix("data:").map(|rest| {
        rest.split_once(";base64,")
            .and_then(|(_, b64)| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .ok_or_else(|| "an inline logo must be a base64 data: URL".to_owned())
    });
    let bytes = match inline {
        Some(decoded) => decoded?,
        None => {
            let path = manifest_file.parent().unwrap_or(Path::new(".")).join(rel);
            std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        }
    };
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(format!("the logo is over {} KiB", LOGO_MAX_BYTES / 1024));
    }
    // Type by content, not by name (JPEG and WebP: logos uploaded in the console, exported).
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if rel.starts_with("data:") && bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if rel.starts_with("data:")
        && bytes.len() > 12
        && &bytes[..4] == b"RIFF"
        && &bytes[8..12] == b"WEBP"
    {
        "image/webp"
    } else if std::str::from_utf8(&bytes).is_ok_and(|s| s.contains("<svg")) {
        "image/svg+xml"
    } else {
        return Err("the logo must be a PNG or SVG file".into());
    };
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    ))
}

pub fn parse_platform_manifest(file: &Path, src: &str) -> Result<PlatformManifest, ManifestError> {
    from_toml(file, src)
}

/// Every manifest in `dir`: `_platform.toml` (optional) and one `<slug>.toml` per tenant.
/// All files are parsed before anything is applied, so one bad file writes nothing.
pub fn load_dir(
    dir: &Path,
) -> Result<(Option<PlatformManifest>, Vec<ParsedManifest>), Vec<ManifestError>> {
    let mut errors = Vec::new();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(e) => {
            return Err(vec![ManifestError::File {
                file: dir.to_owned(),
                message: e.to_string(),
            }]);
        }
    };
    files.sort();
    let mut platform = None;
    let mut tenants = Vec::new();
    for file in files {
        let src = match std::fs::read_to_string(&file) {
            Ok(s) => s,
            Err(e) => {
                errors.push(ManifestError::File {
                    file,
                    message: e.to_string(),
                });
                continue;
            }
        };
        if file.file_name().is_some_and(|n| n == "_platform.toml") {
            match parse_platform_manifest(&file, &src) {
                Ok(p) => platform = Some(p),
                Err(e) => errors.push(e),
            }
        } else {
            match parse_manifest(&file, &src) {
                Ok(m) => tenants.push(m),
                Err(e) => errors.push(e),
            }
        }
    }
    if errors.is_empty() {
        Ok((platform, tenants))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r##"
slug = "acme"
display_name = "Acme Net"
saas_plan = "starter"
currency = "RUB"

[branding]
primary_color = "#112233"

[[tariffs]]
code = "home"
name = "Home"
monthly_price = "500.00"
speed_mbps = 100

[[subscribers]]
account_number = "1"
full_name = "A B"
tariff = "home"
balance = "10.50"
"##;

    fn parse(src: &str) -> Result<ParsedManifest, ManifestError> {
        parse_manifest(Path::new("tenants/acme.toml"), src)
    }

    #[test]
    fn a_good_manifest_parses() {
        let m = parse(GOOD).expect("parses").manifest;
        assert_eq!(m.subscribers[0].balance, Amount(1050));
        assert_eq!(m.tariffs[0].monthly_price, Amount(50_000));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let src = GOOD.replace("primary_color = \"#112233\"", "primary_color = \"blue\"");
        let err = parse(&src).expect_err("bad colour").to_string();
        assert!(err.starts_with("tenants/acme.toml:8:"), "{err}");
        assert!(err.contains("branding.primary_color"), "{err}");

        let src = GOOD.replace("tariff = \"home\"", "tariff = \"gold\"");
        let err = parse(&src).expect_err("unknown tariff").to_string();
        assert!(
            err.contains(":19:") && err.contains("subscribers.tariff") && err.contains("gold"),
            "{err}"
        );

        let src = GOOD.replace("saas_plan", "saas_plna");
        let err = parse(&src).expect_err("unknown field").to_string();
        assert!(err.contains("saas_plna"), "{err}");

        let src = GOOD.replace("balance = \"10.50\"", "balance = 10.5");
        let err = parse(&src).expect_err("float").to_string();
        assert!(
            err.contains("subscribers.balance") && err.contains("strings"),
            "{err}"
        );
    }

    #[test]
    fn a_tariff_may_have_its_own_upload_speed() {
        assert_eq!(
            parse(GOOD).expect("parses").manifest.tariffs[0].upload_speed_mbps,
            None
        );
        let src = GOOD.replace(
            "speed_mbps = 100",
            "speed_mbps = 100\nupload_speed_mbps = 20",
        );
        assert_eq!(
            parse(&src).expect("parses").manifest.tariffs[0].upload_speed_mbps,
            Some(20)
        );
        let src = GOOD.replace(
            "speed_mbps = 100",
            "speed_mbps = 100\nupload_speed_mbps = 0",
        );
        let err = parse(&src).expect_err("zero upload").to_string();
        assert!(err.contains("speeds > 0"), "{err}");
    }

    #[test]
    fn the_time_zone_must_be_an_iana_name() {
        let src = GOOD.replace(
            "currency = \"RUB\"",
            "currency = \"RUB\"\ntime_zone = \"Asia/Novosibirsk\"",
        );
        assert_eq!(
            parse(&src).expect("parses").manifest.time_zone,
            "Asia/Novosibirsk"
        );
        let src = GOOD.replace(
            "currency = \"RUB\"",
            "currency = \"RUB\"\ntime_zone = \"MSK+3\"",
        );
        let err = parse(&src).expect_err("unknown zone").to_string();
        assert!(err.contains("time_zone") && err.contains("MSK+3"), "{err}");
    }

    #[test]
    fn equipment_and_news_are_checked_while_parsing() {
        let with = |extra: &str| format!("{GOOD}\n{extra}");
        let good = with(
            r#"
[[equipment]]
code = "router"
kind = "router"
name = "Router"
purchase_price = "4990.00"
monthly_rent = "199.00"
stock = 3

[[news]]
slug = "hello"
kind = "promotion"
title = "Hello"
body = "Text"
tariffs = ["home"]
publish_at = "2026-12-01T09:00:00+03:00"
"#,
        );
        let m = parse(&good).expect("parses").manifest;
        assert_eq!(m.equipment[0].monthly_rent, Some(Amount(19_900)));
        assert_eq!(m.news[0].tariffs, vec!["home".to_owned()]);

        for (extra, needle) in [
            (
                "[[equipment]]\ncode = \"x\"\nkind = \"toaster\"\nname = \"X\"\npurchase_price = \"1\"",
                "unknown kind",
            ),
            (
                "[[equipment]]\ncode = \"x\"\nkind = \"cable\"\nname = \"X\"",
                "purchase_price, a monthly_rent",
            ),
            (
                "[[equipment]]\ncode = \"Bad Code\"\nkind = \"cable\"\nname = \"X\"\npurchase_price = \"1\"",
                "codes are",
            ),
            (
                "[[news]]\nslug = \"n\"\ntitle = \"T\"\nbody = \"B\"\ntariffs = [\"gold\"]",
                "unknown tariff",
            ),
            (
                "[[news]]\nslug = \"n\"\ntitle = \"T\"\nbody = \"B\"\npublish_at = \"tomorrow\"",
                "RFC 3339",
            ),
            (
                "[[news]]\nslug = \"n\"\nkind = \"ad\"\ntitle = \"T\"\nbody = \"B\"",
                "news or promotion",
            ),
        ] {
            let err = parse(&with(extra)).expect_err(needle).to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn kb_articles_are_checked_while_parsing() {
        let with = |extra: &str| format!("{GOOD}\n{extra}");
        let article = "[[kb_article]]\nslug = \"a\"\ntitle = \"T\"\nbody = \"B\"";
        let m = parse(&with(&format!(
            "{article}\nlocale = \"ru\"\ncategory = \"speed\""
        )))
        .expect("parses")
        .manifest;
        assert!(
            m.kb_articles[0].published,
            "published unless it says otherwise"
        );
        for (extra, needle) in [
            (format!("{article}\nlocale = \"de\""), "ru or en"),
            (
                format!("{article}\nlocale = \"en\"\ncategory = \"weather\""),
                "not a ticket category",
            ),
            (
                format!("{article}\nlocale = \"en\"\n{article}\nlocale = \"en\""),
                "declared twice",
            ),
        ] {
            let err = parse(&with(&extra)).expect_err(needle).to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn ticket_categories_are_checked_while_parsing() {
        let with = |extra: &str| format!("{GOOD}\n{extra}");
        let dacha = "[[ticket_categories]]\ncode = \"dacha_link\"\nkind = \"connectivity\"";
        let m = parse(&with(&format!(
            "{dacha}\nname_ru = \"Связь на даче\"\nposition = 12\n\n\
             [[ticket_categories]]\ncode = \"other\"\nkind = \"other\"\nactive = false\n\n\
             [[kb_article]]\nslug = \"a\"\ntitle = \"T\"\nbody = \"B\"\nlocale = \"ru\"\n\
             category = \"dacha_link\""
        )))
        .expect("parses")
        .manifest;
        let spec = m.ticket_categories[0].spec();
        assert_eq!(spec.kind, kabinet_ticketing::CategoryKind::Connectivity);
        assert_eq!(spec.position, Some(12));
        assert!(spec.active, "active unless it says otherwise");
        assert!(!m.ticket_categories[1].active);
        for (extra, needle) in [
            (dacha.to_owned(), "needs a name_ru or a name_en"),
            (
                format!("{dacha}\nname_en = \"X\"\n{dacha}\nname_en = \"Y\""),
                "declared twice",
            ),
            (
                "[[ticket_categories]]\ncode = \"Dacha\"\nkind = \"other\"\nname_en = \"X\"".into(),
                "codes are",
            ),
            (
                "[[ticket_categories]]\ncode = \"x1\"\nkind = \"weather\"\nname_en = \"X\"".into(),
                "unknown kind",
            ),
            (
                "[[ticket_categories]]\ncode = \"speed\"\nkind = \"other\"".into(),
                "built-in",
            ),
            (
                format!("{dacha}\nname_en = \"X\"\nposition = 1001"),
                "between 0 and 1000",
            ),
            (
                format!("{dacha}\nname_en = \"{}\"", "x".repeat(81)),
                "80 characters",
            ),
            (
                "[[kb_article]]\nslug = \"a\"\ntitle = \"T\"\nbody = \"B\"\nlocale = \"ru\"\n\
                 category = \"dacha_link\""
                    .into(),
                "not a ticket category",
            ),
        ] {
            let err = parse(&with(&extra)).expect_err(needle).to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn the_file_must_match_the_slug() {
        let err = parse_manifest(Path::new("tenants/other.toml"), GOOD).expect_err("mismatch");
        assert!(err.to_string().contains("acme.toml"));
    }
}
