use std::path::PathBuf;
use std::time::Duration;

use kabinet_access::password_reset::ResetPolicy;
use kabinet_access::{SecretKey, SessionPolicy, ThrottlePolicy};

/// What the gateway needs to know about its deployment.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Tenants live at `<slug>.<platform_domain>`; the operator at `admin.<platform_domain>`.
    pub platform_domain: String,
    /// Served over HTTPS: cookies get `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
    /// The built web app (`web/dist`).
    pub web_dir: PathBuf,
    pub max_body_bytes: usize,
    pub tenant_cache_ttl: Duration,
    pub sessions: SessionPolicy,
    pub throttle: ThrottlePolicy,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted load balancer).
    pub trust_forwarded_for: bool,
    /// Seals secrets kept in the database (authenticator secrets): `KABINET_SECRET_KEY`.
    pub secret_key: SecretKey,
    /// How long password reset links live and how often they may be asked for.
    pub password_reset: ResetPolicy,
    /// Where ticket attachments are kept (`KABINET_OBJECT_STORE`; in memory by default).
    pub attachments: kabinet_ticketing::attachments::AttachmentStore,
    /// The body limit of `multipart/form-data` requests (messages with files).
    pub max_upload_bytes: usize,
    /// The body limit of a subscriber CSV import (`KABINET_MAX_IMPORT_BYTES`): the file is
    /// streamed, so this bounds the upload, not memory.
    pub max_import_bytes: usize,
    /// Looks up the DNS TXT proof of custom domains (`KABINET_DNS_RESOLVER`; the system's
    /// resolver by default).
    pub domain_verifier: kabinet_tenancy::domains::DomainVerifier,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            platform_domain: "localhost".into(),
            secure_cookies: false,
            web_dir: PathBuf::from("web/dist"),
            max_body_bytes: 1024 * 1024,
            tenant_cache_ttl: Duration::from_secs(300),
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            trust_forwarded_for: false,
            secret_key: SecretKey::development(),
            password_reset: ResetPolicy::default(),
            attachments: kabinet_ticketing::attachments::AttachmentStore::in_memory(),
            // All files of one message, plus room for the text fields and multipart framing.
            max_upload_bytes: kabinet_ticketing::attachments::MAX_MESSAGE_BYTES + 1024 * 1024,
            max_import_bytes: 64 * 1024 * 1024,
            domain_verifier: kabinet_tenancy::domains::DomainVerifier::default(),
        }
    }
}
