//! Network integration in the console (`/console/nas…`, `/console/sessions`,
//! `/console/subscribers/:account_number/service-logins…` and `…/network`) and in the cabinet
//! (`/me/network`: online sessions and traffic per day). What FreeRADIUS calls is not here: it
//! is on the internal listener (`crate::internal`).

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, Utc};
use kabinet_access::Permission;

use kabinet_access::directory::{SubscriberProfile, find_subscriber_by_account};
use kabinet_db::TenantTx;
use kabinet_network::sessions::{DayTraffic, OnlineCursor, Session};
use kabinet_network::{LoginKind, LoginSpec, Nas, NasSpec, ServiceLogin, Vendor, logins, nas};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::{StaffAuth, SubscriberAuth};
use crate::problem::ApiError;

/// NAS and online sessions in the staff console.
pub struct NetworkConsoleApi;

/// A subscriber's service logins, sessions and traffic in the staff console.
pub struct ServiceLoginsApi;

/// The subscriber's own sessions and traffic.
pub struct MyNetworkApi;

#[derive(Debug, Enum, Clone, Copy)]
#[oai(rename_all = "snake_case")]
pub enum NasVendor {
    Mikrotik,
    Cisco,
    Juniper,
    AccelPpp,
    Other,
}

impl From<Vendor> for NasVendor {
    fn from(v: Vendor) -> Self {
        match v {
            Vendor::Mikrotik => Self::Mikrotik,
            Vendor::Cisco => Self::Cisco,
            Vendor::Juniper => Self::Juniper,
            Vendor::AccelPpp => Self::AccelPpp,
            Vendor::Other => Self::Other,
        }
    }
}

impl From<NasVendor> for Vendor {
    fn from(v: NasVendor) -> Self {
        match v {
            NasVendor::Mikrotik => Self::Mikrotik,
            NasVendor::Cisco => Self::Cisco,
            NasVendor::Juniper => Self::Juniper,
            NasVendor::AccelPpp => Self::AccelPpp,
            NasVendor::Other => Self::Other,
        }
    }
}

#[derive(Debug, Object)]
pub struct NasItem {
    pub id: Uuid,
    pub name: String,
    /// The address its RADIUS packets come from.
    pub address: String,
    pub vendor: NasVendor,
    pub area: String,
    /// Where it takes CoA and Disconnect-Request (RFC 5176).
    pub coa_port: u16,
    pub open_sessions: i64,
    pub created_at: DateTime<Utc>,
}

impl From<&Nas> for NasItem {
    fn from(n: &Nas) -> Self {
        Self {
            id: n.id,
            name: n.name.clone(),
            address: n.address.to_string(),
            vendor: n.vendor.into(),
            area: n.area.clone(),
            coa_port: n.coa_port,
            open_sessions: n.open_sessions,
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct NasPage {
    pub items: Vec<NasItem>,
    /// Pass as `after` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct NasInput {
    #[oai(validator(min_length = 1, max_length = 100))]
    pub name: Text,
    /// IPv4 or IPv6 address the NAS sends RADIUS from.
    #[oai(validator(max_length = 45))]
    pub address: Text,
    pub vendor: NasVendor,
    /// The area it serves (a district, a building): for outages and reports.
    #[oai(default, validator(max_length = 100))]
    pub area: Option<Text>,
    /// CoA/Disconnect port; default 3799.
    #[oai(validator(minimum(value = "1"), maximum(value = "65535")))]
    #[oai(nullable)]
    pub coa_port: Option<u16>,
}

impl NasInput {
    fn spec(&self) -> Result<NasSpec, ApiError> {
        Ok(NasSpec {
            name: self.name.0.clone(),
            address: parse_ip("address", &self.address)?,
            vendor: self.vendor.into(),
            area: self.area.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
            coa_port: self.coa_port.unwrap_or(3799),
        })
    }
}

fn parse_ip(field: &str, raw: &str) -> Result<IpAddr, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::unprocessable("invalid", format!("{field} is not an IP address")))
}

/// A new NAS and its shared secret: shown this once, never again.
#[derive(Debug, Object)]
pub struct NasRegistered {
    pub nas: NasItem,
    /// The RADIUS shared secret to configure on the NAS.
    pub secret: String,
}

/// How RADIUS treats the ISP's subscribers.
#[derive(Debug, Object)]
pub struct NetworkSettingsView {
    /// The NAS address pool for subscribers blocked for debt (a "pay your bill" page); absent:
    /// they are rejected.
    #[oai(skip_serializing_if_is_none)]
    pub debt_captive_pool: Option<String>,
    /// Session-Timeout in every Access-Accept, seconds.
    pub session_timeout_secs: i32,
    /// Acct-Interim-Interval in every Access-Accept, seconds.
    pub interim_interval_secs: i32,
}

impl From<kabinet_network::settings::NetworkSettings> for NetworkSettingsView {
    fn from(s: kabinet_network::settings::NetworkSettings) -> Self {
        Self {
            debt_captive_pool: s.debt_captive_pool,
            session_timeout_secs: s.session_timeout_secs,
            interim_interval_secs: s.interim_interval_secs,
        }
    }
}

/// A change of the RADIUS settings; an empty or null pool rejects debtors instead.
#[derive(Debug, Object)]
pub struct NetworkSettingsInput {
    #[oai(validator(max_length = 64), nullable)]
    pub debt_captive_pool: Option<Text>,
    #[oai(validator(minimum(value = "60"), maximum(value = "604800")))]
    pub session_timeout_secs: i32,
    #[oai(validator(minimum(value = "30"), maximum(value = "86400")))]
    pub interim_interval_secs: i32,
}

#[derive(ApiResponse)]
enum NasCreated {
    #[oai(status = 201)]
    Created(Json<NasRegistered>),
}

#[derive(ApiResponse)]
enum Deleted {
    #[oai(status = 204)]
    Deleted,
}

#[derive(Debug, Object)]
pub struct SessionItem {
    pub nas_id: Uuid,
    pub nas_name: String,
    pub acct_session_id: String,
    pub account_number: String,
    pub username: String,
    #[oai(skip_serializing_if_is_none)]
    pub framed_ip: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub calling_station_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub stopped_at: Option<DateTime<Utc>>,
    /// From the subscriber (upload).
    pub input_octets: i64,
    /// To the subscriber (download).
    pub output_octets: i64,
    /// `open`, `closed` (Stop received) or `stale` (interim updates stopped).
    pub state: String,
    #[oai(skip_serializing_if_is_none)]
    pub terminate_cause: Option<String>,
}

impl From<&Session> for SessionItem {
    fn from(s: &Session) -> Self {
        Self {
            nas_id: s.nas_id,
            nas_name: s.nas_name.clone(),
            acct_session_id: s.acct_session_id.clone(),
            account_number: s.account_number.clone(),
            username: s.username.clone(),
            framed_ip: s.framed_ip.map(|ip| ip.to_string()),
            calling_station_id: s.calling_station_id.clone(),
            started_at: s.started_at,
            updated_at: s.updated_at,
            stopped_at: s.stopped_at,
            input_octets: s.input_octets,
            output_octets: s.output_octets,
            state: s.state.clone(),
            terminate_cause: s.terminate_cause.clone(),
        }
    }
}

#[derive(Debug, Object)]
pub struct SessionPage {
    pub items: Vec<SessionItem>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Object)]
pub struct TrafficDay {
    pub day: NaiveDate,
    /// Uploaded by the subscriber.
    pub input_octets: i64,
    /// Downloaded by the subscriber.
    pub output_octets: i64,
}

impl From<&DayTraffic> for TrafficDay {
    fn from(d: &DayTraffic) -> Self {
        Self {
            day: d.day,
            input_octets: d.input_octets,
            output_octets: d.output_octets,
        }
    }
}

/// Sessions (open first) and traffic per day (newest first, last 30 days).
#[derive(Debug, Object)]
pub struct NetworkUsage {
    pub sessions: Vec<SessionItem>,
    pub traffic: Vec<TrafficDay>,
}

#[derive(Debug, Enum, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum ServiceLoginKind {
    /// A PPPoE user name and password.
    Pppoe,
    /// IPoE by the subscriber device's MAC address.
    IpoeMac,
    /// IPoE by the DHCP Option 82 circuit id of the switch port.
    IpoeOption82,
}

impl From<LoginKind> for ServiceLoginKind {
    fn from(k: LoginKind) -> Self {
        match k {
            LoginKind::Pppoe => Self::Pppoe,
            LoginKind::IpoeMac => Self::IpoeMac,
            LoginKind::IpoeOption82 => Self::IpoeOption82,
        }
    }
}

impl From<ServiceLoginKind> for LoginKind {
    fn from(k: ServiceLoginKind) -> Self {
        match k {
            ServiceLoginKind::Pppoe => Self::Pppoe,
            ServiceLoginKind::IpoeMac => Self::IpoeMac,
            ServiceLoginKind::IpoeOption82 => Self::IpoeOption82,
        }
    }
}

#[derive(Debug, Object)]
pub struct ServiceLoginItem {
    pub id: Uuid,
    pub kind: ServiceLoginKind,
    /// The PPPoE login, the MAC or the circuit id.
    pub username: String,
    /// Handed out while the subscriber has the static IP add-on.
    #[oai(skip_serializing_if_is_none)]
    pub framed_ip: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&ServiceLogin> for ServiceLoginItem {
    fn from(l: &ServiceLogin) -> Self {
        Self {
            id: l.id,
            kind: l.kind.into(),
            username: l.username.clone(),
            framed_ip: l.framed_ip.map(|ip| ip.to_string()),
            created_at: l.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct ServiceLogins {
    pub items: Vec<ServiceLoginItem>,
}

#[derive(Debug, Object)]
pub struct ServiceLoginInput {
    pub kind: ServiceLoginKind,
    #[oai(validator(min_length = 1, max_length = 253))]
    pub username: Text,
    /// PPPoE: required for a new login; absent or null on a change keeps the current one.
    #[oai(nullable, validator(max_length = 128))]
    pub password: Option<Text>,
    /// A static address for the static IP add-on; absent or null: none.
    #[oai(nullable, validator(max_length = 45))]
    pub framed_ip: Option<Text>,
}

impl ServiceLoginInput {
    fn spec(&self) -> Result<LoginSpec, ApiError> {
        Ok(LoginSpec {
            kind: self.kind.into(),
            username: self.username.0.clone(),
            password: self.password.as_ref().map(|p| p.0.clone()),
            framed_ip: self
                .framed_ip
                .as_ref()
                .filter(|ip| !ip.trim().is_empty())
                .map(|ip| parse_ip("framed_ip", ip))
                .transpose()?,
        })
    }
}

#[derive(ApiResponse)]
enum LoginCreated {
    #[oai(status = 201)]
    Created(Json<ServiceLoginItem>),
}

async fn subscriber(
    tx: &mut TenantTx,
    account_number: &str,
) -> Result<SubscriberProfile, ApiError> {
    find_subscriber_by_account(tx, account_number)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn usage(
    tx: &mut TenantTx,
    subscriber: kabinet_core::SubscriberId,
) -> Result<NetworkUsage, ApiError> {
    let sessions = kabinet_network::sessions::of_subscriber(tx, subscriber, 20).await?;
    let traffic = kabinet_network::sessions::traffic(tx, subscriber, 30).await?;
    Ok(NetworkUsage {
        sessions: sessions.iter().map(SessionItem::from).collect(),
        traffic: traffic.iter().map(TrafficDay::from).collect(),
    })
}

#[OpenApi(prefix_path = "/console", tag = "Tag::Console")]
impl NetworkConsoleApi {
    /// The ISP's NAS by name, keyset-paginated.
    #[oai(path = "/nas", method = "get", operation_id = "listNas")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Page size (1–200, default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 100))]
        after: Query<Option<String>>,
    ) -> Result<Json<NasPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkRead).await?;
        let limit = limit.0.unwrap_or(100);
        // The cursor is the last NAS name of the page: never a control character (PostgreSQL
        // refuses NUL in text).
        let after = super::after_cursor(after.0.as_deref(), |raw| {
            (!raw.chars().any(char::is_control)).then(|| raw.to_owned())
        })?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let items = nas::list(&mut tx, after.as_deref(), limit + 1).await?;
        tx.commit().await?;
        let more = items.len() as i64 > limit;
        let items: Vec<NasItem> = items
            .iter()
            .take(limit as usize)
            .map(NasItem::from)
            .collect();
        Ok(Json(NasPage {
            next_cursor: more.then(|| items.last().map(|n| n.name.clone())).flatten(),
            items,
        }))
    }

    /// Registers a NAS. The answer carries its RADIUS shared secret, shown only this once.
    /// Audited (without the secret).
    #[oai(path = "/nas", method = "post", operation_id = "registerNas")]
    async fn register(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NasInput>,
    ) -> Result<NasCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let spec = body.spec()?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (nas, secret) = nas::register(&mut tx, &state.config.secret_key, &spec).await?;
        staff.audit(&mut tx,
            "nas.register",
            format!("nas:{}", nas.id),
            json!({"name": nas.name, "address": nas.address.to_string(), "vendor": nas.vendor.as_str(), "area": nas.area}),
        )
        .await?;
        tx.commit().await?;
        Ok(NasCreated::Created(Json(NasRegistered {
            nas: NasItem::from(&nas),
            secret,
        })))
    }

    /// Changes a NAS's name, address, vendor, area or CoA port (the secret stays). Audited.
    #[oai(path = "/nas/:id", method = "put", operation_id = "updateNas")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
        body: Json<NasInput>,
    ) -> Result<Json<NasItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let spec = body.spec()?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let nas = nas::update(&mut tx, id.0, &spec).await?;
        staff.audit(&mut tx,
            "nas.update",
            format!("nas:{}", nas.id),
            json!({"name": nas.name, "address": nas.address.to_string(), "vendor": nas.vendor.as_str(), "area": nas.area, "coa_port": nas.coa_port}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(NasItem::from(&nas)))
    }

    /// Replaces a NAS's RADIUS shared secret; the answer carries the new one, shown only this
    /// once. FreeRADIUS keeps the old one until its client cache expires (60 s by default), so
    /// change it on the router after that. Audited (without the secret).
    #[oai(
        path = "/nas/:id/secret",
        method = "post",
        operation_id = "rotateNasSecret"
    )]
    async fn rotate_secret(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Json<NasRegistered>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (nas, secret) = nas::rotate_secret(&mut tx, &state.config.secret_key, id.0).await?;
        staff
            .audit(
                &mut tx,
                "nas.rotate_secret",
                format!("nas:{}", nas.id),
                json!({"name": nas.name, "address": nas.address.to_string()}),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(NasRegistered {
            nas: NasItem::from(&nas),
            secret,
        }))
    }

    /// How RADIUS treats the ISP's subscribers: the captive pool for debtors, session timeout
    /// and interim accounting interval.
    #[oai(
        path = "/network/settings",
        method = "get",
        operation_id = "getNetworkSettings"
    )]
    async fn network_settings(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
    ) -> Result<Json<NetworkSettingsView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let settings = kabinet_network::settings::get(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(settings.into()))
    }

    /// Changes the RADIUS settings; they apply from the next Access-Request. Audited with
    /// before and after.
    #[oai(
        path = "/network/settings",
        method = "put",
        operation_id = "updateNetworkSettings"
    )]
    async fn update_network_settings(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        body: Json<NetworkSettingsInput>,
    ) -> Result<Json<NetworkSettingsView>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let input = body.0;
        let wanted = kabinet_network::settings::NetworkSettings {
            debt_captive_pool: input.debt_captive_pool.map(|t| t.0),
            session_timeout_secs: input.session_timeout_secs,
            interim_interval_secs: input.interim_interval_secs,
        };
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (before, after) = kabinet_network::settings::set(&mut tx, wanted).await?;
        let describe = |s: &kabinet_network::settings::NetworkSettings| {
            json!({
                "debt_captive_pool": s.debt_captive_pool,
                "session_timeout_secs": s.session_timeout_secs,
                "interim_interval_secs": s.interim_interval_secs,
            })
        };
        staff
            .audit(
                &mut tx,
                "network.settings",
                "network".into(),
                json!({"before": describe(&before), "after": describe(&after)}),
            )
            .await?;
        tx.commit().await?;
        Ok(Json(after.into()))
    }

    /// Deletes a NAS with its sessions' history; FreeRADIUS stops answering it once its
    /// client cache expires. Audited.
    #[oai(path = "/nas/:id", method = "delete", operation_id = "deleteNas")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        id: Path<Uuid>,
    ) -> Result<Deleted, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let nas = nas::delete(&mut tx, id.0).await?;
        staff
            .audit(
                &mut tx,
                "nas.delete",
                format!("nas:{}", nas.id),
                json!({"name": nas.name, "address": nas.address.to_string()}),
            )
            .await?;
        tx.commit().await?;
        Ok(Deleted::Deleted)
    }

    /// Who is online now, newest session first; keyset-paginated.
    #[oai(
        path = "/sessions",
        method = "get",
        operation_id = "listOnlineSessions"
    )]
    async fn online(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        /// Page size (1–200, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        #[oai(validator(max_length = 400))]
        after: Query<Option<String>>,
    ) -> Result<Json<SessionPage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkRead).await?;
        let after = super::after_cursor(after.0.as_deref(), OnlineCursor::decode)?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let (items, next) =
            kabinet_network::sessions::online(&mut tx, after.as_ref(), limit.0.unwrap_or(50))
                .await?;
        tx.commit().await?;
        Ok(Json(SessionPage {
            items: items.iter().map(SessionItem::from).collect(),
            next_cursor: next.map(|c| c.encode()),
        }))
    }
}

#[OpenApi(prefix_path = "/console/subscribers", tag = "Tag::Console")]
impl ServiceLoginsApi {
    /// A subscriber's service logins (PPPoE, IPoE by MAC or Option 82).
    #[oai(
        path = "/:account_number/service-logins",
        method = "get",
        operation_id = "listServiceLogins"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
    ) -> Result<Json<ServiceLogins>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let sub = subscriber(&mut tx, &account_number.0).await?;
        let items = logins::list(&mut tx, sub.id).await?;
        tx.commit().await?;
        Ok(Json(ServiceLogins {
            items: items.iter().map(ServiceLoginItem::from).collect(),
        }))
    }

    /// Adds a service login. Audited (without the password).
    #[oai(
        path = "/:account_number/service-logins",
        method = "post",
        operation_id = "createServiceLogin"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        body: Json<ServiceLoginInput>,
    ) -> Result<LoginCreated, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let spec = body.spec()?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let sub = subscriber(&mut tx, &account_number.0).await?;
        let login = logins::create(&mut tx, &state.config.secret_key, sub.id, &spec).await?;
        staff.audit(&mut tx,
            "service_login.create",
            format!("subscriber:{}", sub.id),
            json!({"login": login.id, "kind": login.kind.as_str(), "username": login.username, "framed_ip": login.framed_ip.map(|ip| ip.to_string())}),
        )
        .await?;
        tx.commit().await?;
        Ok(LoginCreated::Created(Json(ServiceLoginItem::from(&login))))
    }

    /// Changes a service login's name, password (when given) or static address. Audited.
    #[oai(
        path = "/:account_number/service-logins/:id",
        method = "put",
        operation_id = "updateServiceLogin"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        id: Path<Uuid>,
        body: Json<ServiceLoginInput>,
    ) -> Result<Json<ServiceLoginItem>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let spec = body.spec()?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let sub = subscriber(&mut tx, &account_number.0).await?;
        let login = logins::update(&mut tx, &state.config.secret_key, sub.id, id.0, &spec).await?;
        staff.audit(&mut tx,
            "service_login.update",
            format!("subscriber:{}", sub.id),
            json!({"login": login.id, "username": login.username, "framed_ip": login.framed_ip.map(|ip| ip.to_string()), "password_changed": spec.password.is_some()}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(ServiceLoginItem::from(&login)))
    }

    /// Deletes a service login: the next authorization with it is rejected. Audited.
    #[oai(
        path = "/:account_number/service-logins/:id",
        method = "delete",
        operation_id = "deleteServiceLogin"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
        id: Path<Uuid>,
    ) -> Result<Deleted, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkManage).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let sub = subscriber(&mut tx, &account_number.0).await?;
        let login = logins::delete(&mut tx, sub.id, id.0).await?;
        staff
            .audit(
                &mut tx,
                "service_login.delete",
                format!("subscriber:{}", sub.id),
                json!({"login": login.id, "username": login.username}),
            )
            .await?;
        tx.commit().await?;
        Ok(Deleted::Deleted)
    }

    /// A subscriber's recent sessions and traffic per day.
    #[oai(
        path = "/:account_number/network",
        method = "get",
        operation_id = "getSubscriberNetwork"
    )]
    async fn network(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 32))] account_number: Path<String>,
    ) -> Result<Json<NetworkUsage>, ApiError> {
        let staff = auth.0;
        staff.require(Permission::NetworkRead).await?;
        let mut tx = state.db.tenant_tx(staff.tenant.id).await?;
        let sub = subscriber(&mut tx, &account_number.0).await?;
        let out = usage(&mut tx, sub.id).await?;
        tx.commit().await?;
        Ok(Json(out))
    }
}

#[OpenApi(tag = "Tag::Portal")]
impl MyNetworkApi {
    /// My connections: recent sessions (online ones first) and traffic per day.
    #[oai(path = "/me/network", method = "get", operation_id = "getMyNetwork")]
    async fn mine(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<NetworkUsage>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let out = usage(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(out))
    }
}
