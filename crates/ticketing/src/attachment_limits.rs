//! The ISP's own limits on attachments (`attachment_limits`): the largest file and the most
//! bytes the files of one message may take together, each at most the platform's cap
//! ([`MAX_FILE_BYTES`], [`MAX_MESSAGE_BYTES`], which also stand when the ISP set nothing).
//! [`crate::attachments::attach`] checks them before anything is written; the console edits
//! them ([`put`]) and the portal shows them ([`get`]).

use chrono::{DateTime, Utc};
use kabinet_core::StaffId;
use kabinet_db::{TenantTx, sqlx};
use sqlx::Row;

use crate::TicketingError;
use crate::attachments::{AttachmentError, MAX_FILE_BYTES, MAX_MESSAGE_BYTES, PreparedFile};

/// What one message's files may take, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachmentLimits {
    pub max_file_bytes: i64,
    pub max_message_bytes: i64,
}

impl AttachmentLimits {
    /// The platform's caps: the default, and the most an ISP may allow.
    pub const PLATFORM: Self = Self {
        max_file_bytes: MAX_FILE_BYTES as i64,
        max_message_bytes: MAX_MESSAGE_BYTES as i64,
    };

    /// Limits an ISP may set: positive, a file no larger than a message, both within the
    /// platform's caps.
    pub fn validate(self) -> Result<Self, AttachmentError> {
        let invalid = |field, reason: String| AttachmentError::InvalidLimits { field, reason };
        if self.max_file_bytes < 1 || self.max_file_bytes > Self::PLATFORM.max_file_bytes {
            return Err(invalid(
                "max_file_bytes",
                format!(
                    "must be between 1 byte and the platform's {} bytes",
                    Self::PLATFORM.max_file_bytes
                ),
            ));
        }
        if self.max_message_bytes < 1 || self.max_message_bytes > Self::PLATFORM.max_message_bytes {
            return Err(invalid(
                "max_message_bytes",
                format!(
                    "must be between 1 byte and the platform's {} bytes",
                    Self::PLATFORM.max_message_bytes
                ),
            ));
        }
        if self.max_file_bytes > self.max_message_bytes {
            return Err(invalid(
                "max_file_bytes",
                "may not be larger than max_message_bytes".into(),
            ));
        }
        Ok(self)
    }

    /// Whether `files` (checked and cleaned: their stored sizes) fit.
    pub fn check(&self, files: &[PreparedFile]) -> Result<(), AttachmentError> {
        let mut total: i64 = 0;
        for file in files {
            let size = i64::try_from(file.bytes.len()).unwrap_or(i64::MAX);
            if size > self.max_file_bytes {
                return Err(AttachmentError::OverFileLimit {
                    name: file.file_name.clone(),
                    max: self.max_file_bytes,
                });
            }
            total = total.saturating_add(size);
        }
        if total > self.max_message_bytes {
            return Err(AttachmentError::OverMessageLimit {
                max: self.max_message_bytes,
            });
        }
        Ok(())
    }
}

/// The ISP's limits and whether (and when) it set them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitsSetting {
    pub limits: AttachmentLimits,
    /// `None`: the ISP has not set limits, the platform's caps apply.
    pub updated_at: Option<DateTime<Utc>>,
}

/// The limits in force for the tenant of `tx`.
pub async fn get(tx: &mut TenantTx) -> Result<AttachmentLimits, TicketingError> {
    Ok(setting(tx).await?.limits)
}

/// The limits in force and whether the ISP set them.
pub async fn setting(tx: &mut TenantTx) -> Result<LimitsSetting, TicketingError> {
    let row = sqlx::query(
        "SELECT max_file_bytes, max_message_bytes, updated_at FROM attachment_limits \
         WHERE tenant_id = $1",
    )
    .bind(tx.tenant().as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some(r) => LimitsSetting {
            limits: AttachmentLimits {
                max_file_bytes: r.try_get("max_file_bytes")?,
                max_message_bytes: r.try_get("max_message_bytes")?,
            },
            updated_at: Some(r.try_get("updated_at")?),
        },
        None => LimitsSetting {
            limits: AttachmentLimits::PLATFORM,
            updated_at: None,
        },
    })
}

/// Sets the ISP's limits (validated); returns the setting before and after, for the audit log.
pub async fn put(
    tx: &mut TenantTx,
    by: StaffId,
    limits: AttachmentLimits,
) -> Result<(LimitsSetting, LimitsSetting), AttachmentError> {
    let limits = limits.validate()?;
    let before = setting(tx).await?;
    let updated_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO attachment_limits (tenant_id, max_file_bytes, max_message_bytes, updated_by_staff_id) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id) DO UPDATE SET max_file_bytes = EXCLUDED.max_file_bytes, \
           max_message_bytes = EXCLUDED.max_message_bytes, \
           updated_by_staff_id = EXCLUDED.updated_by_staff_id, updated_at = now() \
         RETURNING updated_at",
    )
    .bind(tx.tenant().as_uuid())
    .bind(limits.max_file_bytes)
    .bind(limits.max_message_bytes)
    .bind(by.as_uuid())
    .fetch_one(tx.conn())
    .await?;
    Ok((
        before,
        LimitsSetting {
            limits,
            updated_at: Some(updated_at),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_stay_within_the_platform_caps() {
        let ok = AttachmentLimits {
            max_file_bytes: 1024,
            max_message_bytes: 4096,
        };
        assert_eq!(ok.validate().ok(), Some(ok));
        assert!(AttachmentLimits::PLATFORM.validate().is_ok());
        for bad in [
            AttachmentLimits {
                max_file_bytes: 0,
                ..ok
            },
            AttachmentLimits {
                max_file_bytes: MAX_FILE_BYTES as i64 + 1,
                max_message_bytes: MAX_MESSAGE_BYTES as i64,
            },
            AttachmentLimits {
                max_message_bytes: MAX_MESSAGE_BYTES as i64 + 1,
                ..ok
            },
            AttachmentLimits {
                max_file_bytes: 5000,
                max_message_bytes: 4096,
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(AttachmentError::InvalidLimits { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn files_are_checked_against_the_isp_limits() {
        let file = |n: usize| PreparedFile {
            file_name: "a.txt".into(),
            content_type: "text/plain",
            bytes: bytes::Bytes::from(vec![b'a'; n]),
            sha256: [0; 32],
        };
        let limits = AttachmentLimits {
            max_file_bytes: 100,
            max_message_bytes: 150,
        };
        assert!(limits.check(&[file(100)]).is_ok());
        assert!(matches!(
            limits.check(&[file(101)]),
            Err(AttachmentError::OverFileLimit { max: 100, .. })
        ));
        assert!(matches!(
            limits.check(&[file(100), file(51)]),
            Err(AttachmentError::OverMessageLimit { max: 150 })
        ));
    }
}
