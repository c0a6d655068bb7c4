//! The few RADIUS packets Kabinet itself speaks (RFC 2865/2866 framing, RFC 5176 CoA and
//! Disconnect): encoding, authenticators, User-Password hiding, CHAP and Message-Authenticator.
//! FreeRADIUS handles the NAS's requests; this codec sends CoA/Disconnect to NAS and lets the
//! tests play a NAS. Decoding is bounds-checked: a malformed packet is an error, never a panic.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

pub const ACCESS_REQUEST: u8 = 1;
pub const ACCESS_ACCEPT: u8 = 2;
pub const ACCESS_REJECT: u8 = 3;
pub const ACCOUNTING_REQUEST: u8 = 4;
pub const ACCOUNTING_RESPONSE: u8 = 5;
pub const DISCONNECT_REQUEST: u8 = 40;
pub const DISCONNECT_ACK: u8 = 41;
pub const DISCONNECT_NAK: u8 = 42;
pub const COA_REQUEST: u8 = 43;
pub const COA_ACK: u8 = 44;
pub const COA_NAK: u8 = 45;

pub const USER_NAME: u8 = 1;
pub const USER_PASSWORD: u8 = 2;
pub const CHAP_PASSWORD: u8 = 3;
pub const NAS_IP_ADDRESS: u8 = 4;
pub const FRAMED_IP_ADDRESS: u8 = 8;
pub const REPLY_MESSAGE: u8 = 18;
pub const VENDOR_SPECIFIC: u8 = 26;
pub const SESSION_TIMEOUT: u8 = 27;
pub const CALLING_STATION_ID: u8 = 31;
pub const ACCT_STATUS_TYPE: u8 = 40;
pub const ACCT_DELAY_TIME: u8 = 41;
pub const ACCT_INPUT_OCTETS: u8 = 42;
pub const ACCT_OUTPUT_OCTETS: u8 = 43;
pub const ACCT_SESSION_ID: u8 = 44;
pub const ACCT_SESSION_TIME: u8 = 46;
pub const ACCT_TERMINATE_CAUSE: u8 = 49;
pub const ACCT_INPUT_GIGAWORDS: u8 = 52;
pub const ACCT_OUTPUT_GIGAWORDS: u8 = 53;
pub const CHAP_CHALLENGE: u8 = 60;
pub const MESSAGE_AUTHENTICATOR: u8 = 80;
pub const ACCT_INTERIM_INTERVAL: u8 = 85;
pub const FRAMED_POOL: u8 = 88;
pub const ERROR_CAUSE: u8 = 101;

pub const VENDOR_MIKROTIK: u32 = 14988;
pub const MIKROTIK_RATE_LIMIT: u8 = 8;
pub const VENDOR_WISPR: u32 = 14122;
pub const WISPR_BANDWIDTH_MAX_UP: u8 = 7;
pub const WISPR_BANDWIDTH_MAX_DOWN: u8 = 8;

/// RFC 2865: 4096 octets at most.
pub const MAX_PACKET: usize = 4096;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PacketError {
    #[error("packet shorter than its header")]
    TooShort,
    #[error("length field {0} does not fit the datagram")]
    BadLength(usize),
    #[error("malformed attribute at offset {0}")]
    BadAttribute(usize),
    #[error("packet too large")]
    TooLarge,
    #[error("authenticator does not match the shared secret")]
    BadAuthenticator,
}

/// One attribute: standard (`vendor` = None) or vendor-specific.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attr {
    pub vendor: Option<u32>,
    pub kind: u8,
    pub value: Vec<u8>,
}

impl Attr {
    pub fn new(kind: u8, value: impl Into<Vec<u8>>) -> Self {
        Self {
            vendor: None,
            kind,
            value: value.into(),
        }
    }

    pub fn vendor(vendor: u32, kind: u8, value: impl Into<Vec<u8>>) -> Self {
        Self {
            vendor: Some(vendor),
            kind,
            value: value.into(),
        }
    }

    pub fn int(kind: u8, value: u32) -> Self {
        Self::new(kind, value.to_be_bytes().to_vec())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub code: u8,
    pub id: u8,
    pub authenticator: [u8; 16],
    pub attrs: Vec<Attr>,
}

impl Packet {
    pub fn new(code: u8, id: u8) -> Self {
        Self {
            code,
            id,
            authenticator: [0; 16],
            attrs: Vec::new(),
        }
    }

    pub fn attr(&self, kind: u8) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|a| a.vendor.is_none() && a.kind == kind)
            .map(|a| a.value.as_slice())
    }

    pub fn vendor_attr(&self, vendor: u32, kind: u8) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|a| a.vendor == Some(vendor) && a.kind == kind)
            .map(|a| a.value.as_slice())
    }

    pub fn text(&self, kind: u8) -> Option<String> {
        self.attr(kind)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    pub fn int(&self, kind: u8) -> Option<u32> {
        self.attr(kind)
            .and_then(|v| <[u8; 4]>::try_from(v).ok())
            .map(u32::from_be_bytes)
    }

    fn encode_attrs(&self) -> Result<Vec<u8>, PacketError> {
        let mut out = Vec::new();
        for a in &self.attrs {
            match a.vendor {
                None => {
                    if a.value.len() > 253 {
                        return Err(PacketError::TooLarge);
                    }
                    out.push(a.kind);
                    out.push((a.value.len() + 2) as u8);
                    out.extend_from_slice(&a.value);
                }
                Some(vendor) => {
                    if a.value.len() > 247 {
                        return Err(PacketError::TooLarge);
                    }
                    out.push(VENDOR_SPECIFIC);
                    out.push((a.value.len() + 8) as u8);
                    out.extend_from_slice(&vendor.to_be_bytes());
                    out.push(a.kind);
                    out.push((a.value.len() + 2) as u8);
                    out.extend_from_slice(&a.value);
                }
            }
        }
        Ok(out)
    }

    fn frame(&self, authenticator: &[u8; 16], attrs: &[u8]) -> Result<Vec<u8>, PacketError> {
        let len = 20 + attrs.len();
        if len > MAX_PACKET {
            return Err(PacketError::TooLarge);
        }
        let mut out = Vec::with_capacity(len);
        out.push(self.code);
        out.push(self.id);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(authenticator);
        out.extend_from_slice(attrs);
        Ok(out)
    }

    /// A request whose authenticator is MD5 over the packet with a zero authenticator
    /// (Accounting-Request, CoA-Request, Disconnect-Request). A Message-Authenticator, if one
    /// is present (empty value), is filled in.
    pub fn encode_signed_request(&mut self, secret: &[u8]) -> Result<Vec<u8>, PacketError> {
        let attrs = self.encode_attrs()?;
        let mut bytes = self.frame(&[0; 16], &attrs)?;
        fill_message_authenticator(&mut bytes, secret);
        let auth = md5_of(&[&bytes, secret]);
        bytes[4..20].copy_from_slice(&auth);
        self.authenticator = auth;
        Ok(bytes)
    }

    /// An Access-Request: random authenticator (set by the caller), Message-Authenticator
    /// filled in when present.
    pub fn encode_access_request(&self, secret: &[u8]) -> Result<Vec<u8>, PacketError> {
        let attrs = self.encode_attrs()?;
        let mut bytes = self.frame(&self.authenticator, &attrs)?;
        fill_message_authenticator(&mut bytes, secret);
        Ok(bytes)
    }

    /// A response to `request_authenticator` (ACK/NAK, Accept/Reject, Accounting-Response).
    pub fn encode_response(
        &self,
        request_authenticator: &[u8; 16],
        secret: &[u8],
    ) -> Result<Vec<u8>, PacketError> {
        let attrs = self.encode_attrs()?;
        let mut bytes = self.frame(request_authenticator, &attrs)?;
        fill_message_authenticator(&mut bytes, secret);
        let auth = md5_of(&[&bytes, secret]);
        bytes[4..20].copy_from_slice(&auth);
        Ok(bytes)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, PacketError> {
        if bytes.len() < 20 {
            return Err(PacketError::TooShort);
        }
        let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        if !(20..=MAX_PACKET).contains(&len) || len > bytes.len() {
            return Err(PacketError::BadLength(len));
        }
        let mut authenticator = [0u8; 16];
        authenticator.copy_from_slice(&bytes[4..20]);
        let mut attrs = Vec::new();
        let mut at = 20;
        while at < len {
            let (kind, alen) = match bytes.get(at..at + 2) {
                Some(&[k, l]) => (k, usize::from(l)),
                _ => return Err(PacketError::BadAttribute(at)),
            };
            if alen < 2 || at + alen > len {
                return Err(PacketError::BadAttribute(at));
            }
            let value = &bytes[at + 2..at + alen];
            if kind == VENDOR_SPECIFIC && value.len() >= 6 {
                let vendor = u32::from_be_bytes([value[0], value[1], value[2], value[3]]);
                let mut v = 4;
                while v < value.len() {
                    let (vk, vl) = match value.get(v..v + 2) {
                        Some(&[k, l]) => (k, usize::from(l)),
                        _ => return Err(PacketError::BadAttribute(at)),
                    };
                    if vl < 2 || v + vl > value.len() {
                        return Err(PacketError::BadAttribute(at));
                    }
                    attrs.push(Attr::vendor(vendor, vk, value[v + 2..v + vl].to_vec()));
                    v += vl;
                }
            } else {
                attrs.push(Attr::new(kind, value.to_vec()));
            }
            at += alen;
        }
        Ok(Self {
            code: bytes[0],
            id: bytes[1],
            authenticator,
            attrs,
        })
    }
}

fn md5_of(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Finds a Message-Authenticator attribute (any value) and writes HMAC-MD5 of the packet (with
/// the attribute zeroed, the authenticator field as it stands) into it.
fn fill_message_authenticator(bytes: &mut [u8], secret: &[u8]) {
    let Some(at) = find_attr(bytes, MESSAGE_AUTHENTICATOR) else {
        return;
    };
    if bytes[at + 1] != 18 {
        return;
    }
    bytes[at + 2..at + 18].fill(0);
    let Ok(mut mac) = Hmac::<Md5>::new_from_slice(secret) else {
        return;
    };
    mac.update(bytes);
    let tag = mac.finalize().into_bytes();
    bytes[at + 2..at + 18].copy_from_slice(&tag);
}

fn find_attr(bytes: &[u8], kind: u8) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])).min(bytes.len());
    let mut at = 20;
    while at + 2 <= len {
        let alen = usize::from(bytes[at + 1]);
        if alen < 2 {
            return None;
        }
        if bytes[at] == kind {
            return Some(at);
        }
        at += alen;
    }
    None
}

/// Checks the authenticator of a request signed like Accounting-Request (and CoA/Disconnect).
pub fn verify_signed_request(bytes: &[u8], secret: &[u8]) -> Result<(), PacketError> {
    if bytes.len() < 20 {
        return Err(PacketError::TooShort);
    }
    let mut zeroed = bytes.to_vec();
    zeroed[4..20].fill(0);
    if md5_of(&[&zeroed, secret])[..] == bytes[4..20] {
        Ok(())
    } else {
        Err(PacketError::BadAuthenticator)
    }
}

/// Checks a response's authenticator against the request it answers.
pub fn verify_response(
    bytes: &[u8],
    request_authenticator: &[u8; 16],
    secret: &[u8],
) -> Result<(), PacketError> {
    if bytes.len() < 20 {
        return Err(PacketError::TooShort);
    }
    let mut copy = bytes.to_vec();
    copy[4..20].copy_from_slice(request_authenticator);
    if md5_of(&[&copy, secret])[..] == bytes[4..20] {
        Ok(())
    } else {
        Err(PacketError::BadAuthenticator)
    }
}

/// RFC 2865 §5.2: User-Password hidden with the secret and the request authenticator.
pub fn hide_password(password: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let padded_len = password.len().div_ceil(16).max(1) * 16;
    let mut out = Vec::with_capacity(padded_len);
    let mut prev: Vec<u8> = authenticator.to_vec();
    for chunk_start in (0..padded_len).step_by(16) {
        let b = md5_of(&[secret, &prev]);
        let mut block = [0u8; 16];
        for (i, byte) in block.iter_mut().enumerate() {
            let p = password.get(chunk_start + i).copied().unwrap_or(0);
            *byte = p ^ b[i];
        }
        out.extend_from_slice(&block);
        prev = block.to_vec();
    }
    out
}

/// RFC 1994: the CHAP response is MD5(ident ‖ password ‖ challenge).
pub fn chap_response(ident: u8, password: &[u8], challenge: &[u8]) -> [u8; 16] {
    md5_of(&[&[ident], password, challenge])
}

/// Checks a CHAP-Password (ident ‖ 16-byte response) against the cleartext password, in
/// constant time.
pub fn chap_matches(chap_password: &[u8], password: &[u8], challenge: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let [ident, response @ ..] = chap_password else {
        return false;
    };
    if response.len() != 16 || challenge.is_empty() {
        return false;
    }
    chap_response(*ident, password, challenge)
        .ct_eq(response)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_requests_and_responses_round_trip_and_verify() {
        let mut req = Packet::new(DISCONNECT_REQUEST, 7);
        req.attrs.push(Attr::new(ACCT_SESSION_ID, b"abc".to_vec()));
        req.attrs.push(Attr::vendor(
            VENDOR_MIKROTIK,
            MIKROTIK_RATE_LIMIT,
            b"10M/100M".to_vec(),
        ));
        req.attrs
            .push(Attr::new(MESSAGE_AUTHENTICATOR, vec![0; 16]));
        let bytes = req.encode_signed_request(b"s3cret").expect("encode");
        verify_signed_request(&bytes, b"s3cret").expect("verifies");
        assert_eq!(
            verify_signed_request(&bytes, b"other"),
            Err(PacketError::BadAuthenticator)
        );
        let decoded = Packet::decode(&bytes).expect("decode");
        assert_eq!(decoded.text(ACCT_SESSION_ID).as_deref(), Some("abc"));
        assert_eq!(
            decoded.vendor_attr(VENDOR_MIKROTIK, MIKROTIK_RATE_LIMIT),
            Some(&b"10M/100M"[..])
        );

        let ack = Packet::new(DISCONNECT_ACK, 7);
        let answer = ack
            .encode_response(&decoded.authenticator, b"s3cret")
            .expect("encode");
        verify_response(&answer, &req.authenticator, b"s3cret").expect("verifies");
        assert!(verify_response(&answer, &[1; 16], b"s3cret").is_err());
    }

    #[test]
    fn malformed_packets_are_errors_not_panics() {
        assert_eq!(Packet::decode(&[1, 2, 3]), Err(PacketError::TooShort));
        let mut bytes = vec![1, 1, 0, 30];
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Packet::decode(&bytes), Err(PacketError::BadAttribute(20)));
        let mut long = vec![1, 1, 0xff, 0xff];
        long.extend_from_slice(&[0; 16]);
        assert!(matches!(
            Packet::decode(&long),
            Err(PacketError::BadLength(_))
        ));
        for n in 0..64u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37)).collect();
            let _ = Packet::decode(&junk);
        }
    }

    #[test]
    fn chap_and_password_hiding_follow_the_rfcs() {
        let challenge = [9u8; 16];
        let mut chap = vec![5u8];
        chap.extend_from_slice(&chap_response(5, b"pw", &challenge));
        assert!(chap_matches(&chap, b"pw", &challenge));
        assert!(!chap_matches(&chap, b"px", &challenge));
        assert!(!chap_matches(&chap[..10], b"pw", &challenge));
        let hidden = hide_password(b"hello", b"secret", &[3; 16]);
        assert_eq!(hidden.len(), 16);
        // Hiding twice with the same keystream gives back the (padded) password.
        let again = hide_password(&hidden[..], b"secret", &[3; 16]);
        assert_eq!(&again[..5], b"hello");
    }
}
