//! Access tokens (JWTs) presented by clients: any text is refused or verified without a panic;
//! a token this server minted verifies to what it was minted for, and only before it expires.
#![no_main]

use cloudnexus_core::scope::Scopes;
use cloudnexus_core::{ApiKeyId, ProjectId, Timestamp};
use cloudnexus_service::auth::token::{TokenError, TokenSigner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, u32, u16)| {
    let (presented, now, ttl) = input;
    let signer = TokenSigner::from_secret(&[9; 32]);
    let _ = signer.verify(presented, i64::from(now) * 1000);

    let ttl = i64::from(ttl.clamp(1, 3600));
    let key = ApiKeyId::parse("key_fuzzfuzz01").unwrap();
    let project = ProjectId::parse("prj_fuzzfuzz01").unwrap();
    let scopes = Scopes::parse_list("storage:read").unwrap();
    let issued = Timestamp::from_unix_seconds(i64::from(now));
    let token = signer.mint(&key, &project, scopes.clone(), issued, ttl);
    let verified = signer.verify(&token, i64::from(now) * 1000).unwrap();
    assert_eq!(
        (verified.key_id, verified.project_id, verified.scopes),
        (key, project, scopes)
    );
    let late = (i64::from(now) + ttl) * 1000;
    assert_eq!(signer.verify(&token, late), Err(TokenError::Expired));
    let stranger = TokenSigner::from_secret(&[8; 32]);
    assert_eq!(stranger.verify(&token, i64::from(now) * 1000), Err(TokenError::Invalid));
});
