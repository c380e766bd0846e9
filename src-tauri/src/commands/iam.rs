//! What the shell asks IAM and Organizations: the Trust section, an IAM user's access
//! keys, and the organization fan-out.

use rolehop_core::Problem as _;
use rolehop_core::SessionId;
use rolehop_core::access_keys::{AccessKeyReport, Asking, Propagation, RotatedKeys};
use rolehop_core::org::OrgSyncRequest;
use rolehop_core::sync::SyncReport;
use rolehop_core::trust::statement::HopNeeds;
use rolehop_core::trust::{CheckReport, NeedsOptions, PolicySource};

use super::{Ctx, Result, payload};

pub async fn trust_needs(cx: Ctx<'_>, id: SessionId) -> Result<Vec<HopNeeds>> {
    cx.shell
        .engine
        .trust()
        .needs(id, NeedsOptions::default())
        .await
        .map_err(payload)
}

pub async fn trust_check(cx: Ctx<'_>, id: SessionId) -> Result<CheckReport> {
    cx.shell
        .engine
        .trust()
        .check(id, PolicySource::Fetch { via: None })
        .await
        .map_err(|e| e.payload())
}

/// No whole key id reaches the web view. Without a cached MFA token IAM is asked with
/// the key itself.
pub async fn access_keys(cx: Ctx<'_>, id: SessionId) -> Result<AccessKeyReport> {
    cx.shell
        .engine
        .access_key_report(id, None, Asking::Never)
        .await
        .map(AccessKeyReport::masked)
        .map_err(|e| e.payload())
}

pub async fn rotate_access_key(cx: Ctx<'_>, id: SessionId) -> Result<RotatedKeys> {
    cx.shell
        .engine
        .rotate_access_key(id, None, Propagation::default())
        .await
        .map(RotatedKeys::masked)
        .map_err(|e| e.payload())
}

pub async fn org_sync(cx: Ctx<'_>, request: OrgSyncRequest) -> Result<SyncReport> {
    cx.shell.engine.org_sync(request).await.map_err(payload)
}
