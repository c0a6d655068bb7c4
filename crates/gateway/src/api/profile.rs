use chrono::{DateTime, Utc};
use kabinet_access::account_security::{
    change_subscriber_password, end_subscriber_session, subscriber_sessions,
};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::Tag;
use super::text::Text;
use crate::AppState;
use crate::auth::SubscriberAuth;
use crate::problem::ApiError;

/// The subscriber's own security: password and sessions.
pub struct ProfileApi;

#[derive(Debug, Object)]
pub struct PasswordChange {
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub current_password: Text,
    /// 10 to 1024 characters; not the account number, e-mail or phone.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub new_password: Text,
}

#[derive(Debug, Object)]
pub struct PasswordChanged {
    /// Sessions on other devices that were ended.
    pub sessions_ended: u64,
}

#[derive(Debug, Object)]
pub struct ActiveSession {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub client_addr: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub user_agent: Option<String>,
    /// This is the session making the request.
    pub current: bool,
}

#[derive(Debug, Object)]
pub struct SessionList {
    pub items: Vec<ActiveSession>,
}

#[derive(ApiResponse)]
enum SessionEnded {
    /// The session has ended.
    #[oai(status = 204)]
    Done,
}

#[OpenApi(prefix_path = "/me", tag = "Tag::Portal")]
impl ProfileApi {
    /// Changes the password; every other session ends.
    #[oai(path = "/password", method = "post", operation_id = "changeMyPassword")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        body: Json<PasswordChange>,
    ) -> Result<Json<PasswordChanged>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let ended = change_subscriber_password(
            &mut tx,
            me.id,
            me.session_id,
            &body.current_password,
            &body.new_password,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(PasswordChanged {
            sessions_ended: ended,
        }))
    }

    /// The subscriber's signed-in devices.
    #[oai(path = "/sessions", method = "get", operation_id = "listMySessions")]
    async fn sessions(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
    ) -> Result<Json<SessionList>, ApiError> {
        let me = auth.0;
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let sessions = subscriber_sessions(&mut tx, me.id).await?;
        tx.commit().await?;
        Ok(Json(SessionList {
            items: sessions
                .into_iter()
                .map(|s| ActiveSession {
                    current: s.id == me.session_id,
                    id: s.id,
                    created_at: s.created_at,
                    last_seen_at: s.last_seen_at,
                    client_addr: s.client_addr,
                    user_agent: s.user_agent,
                })
                .collect(),
        }))
    }

    /// Signs one device out.
    #[oai(
        path = "/sessions/:id",
        method = "delete",
        operation_id = "endMySession"
    )]
    async fn end_session(
        &self,
        state: Data<&AppState>,
        auth: SubscriberAuth,
        id: Path<Uuid>,
    ) -> Result<SessionEnded, ApiError> {
        let me = auth.0;
        if id.0 == me.session_id {
            // This device signs out through /auth/logout, which also clears the cookie.
            return Err(ApiError::new(
                poem::http::StatusCode::CONFLICT,
                "current_session",
                "This is the session you are using",
                Some("Use sign out (POST /auth/logout) to end the current session.".into()),
            ));
        }
        let mut tx = state.db.tenant_tx(me.tenant.id).await?;
        let ended = end_subscriber_session(&mut tx, me.id, id.0).await?;
        tx.commit().await?;
        if ended {
            Ok(SessionEnded::Done)
        } else {
            Err(ApiError::not_found())
        }
    }
}
