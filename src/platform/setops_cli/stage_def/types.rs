//! The model's service types (`postgresql11`, `redis6`, …, and the CLI 2.x-only `postgresql14`
//! to `postgresql16` and `redis7`) against v2's `{type, version, plan}`. A v2 service the model
//! has no type for (postgresql 12, mysql) is refused rather than approximated.

use crate::model::ServiceType;

/// How v2 writes a v1 type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct V2Type {
    pub service_type: &'static str,
    pub version: Option<&'static str>,
    /// A plan the type implies (`shared` for postgresql11), else `None` (the service's own).
    pub plan: Option<&'static str>,
}

pub fn v2_type(t: ServiceType) -> V2Type {
    let (service_type, version, plan) = match t {
        ServiceType::Postgresql11 => ("postgresql", None, Some("shared")),
        ServiceType::Postgresql13 => ("postgresql", Some("13"), None),
        ServiceType::Postgresql14 => ("postgresql", Some("14"), None),
        ServiceType::Postgresql15 => ("postgresql", Some("15"), None),
        ServiceType::Postgresql16 => ("postgresql", Some("16"), None),
        ServiceType::Redis6 => ("redis", Some("6.x"), None),
        ServiceType::Redis7 => ("redis", Some("7.x"), None),
        ServiceType::Elasticsearch7 => ("elasticsearch", Some("7"), None),
        ServiceType::Mongodb4 => ("documentdb", Some("4"), None),
        ServiceType::S3 => ("s3", None, None),
        ServiceType::Volume => ("volume", None, None),
    };
    V2Type {
        service_type,
        version,
        plan,
    }
}

/// The v1 type of a v2 service; `Err` describes the service for the message. Versions match on
/// their major number (`6`, `6.x`, `6.2` are all redis 6).
pub fn v1_type(
    service_type: &str,
    version: Option<&str>,
    plan: Option<&str>,
) -> Result<ServiceType, String> {
    let major = version.map(major_of);
    let found = match (service_type, major) {
        ("postgresql", None) if plan == Some("shared") => Some(ServiceType::Postgresql11),
        ("postgresql", Some(Some(13))) => Some(ServiceType::Postgresql13),
        ("postgresql", Some(Some(14))) => Some(ServiceType::Postgresql14),
        ("postgresql", Some(Some(15))) => Some(ServiceType::Postgresql15),
        ("postgresql", Some(Some(16))) => Some(ServiceType::Postgresql16),
        ("redis", Some(Some(6))) => Some(ServiceType::Redis6),
        ("redis", Some(Some(7))) => Some(ServiceType::Redis7),
        ("elasticsearch", Some(Some(7))) => Some(ServiceType::Elasticsearch7),
        ("documentdb", Some(Some(4))) => Some(ServiceType::Mongodb4),
        ("s3", None) => Some(ServiceType::S3),
        ("volume", None) => Some(ServiceType::Volume),
        _ => None,
    };
    found.ok_or_else(|| {
        let mut description = format!("type {service_type}");
        if let Some(v) = version {
            description.push_str(&format!(" version {v:?}"));
        }
        if let Some(p) = plan {
            description.push_str(&format!(" plan {p}"));
        }
        description
    })
}

/// `13` → 13, `6.x` → 6, `6.2` → 6; `None` for anything else (`latest`, `x`, ``).
fn major_of(version: &str) -> Option<u32> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    parts
        .all(|p| p == "x" || (!p.is_empty() && p.chars().all(|c| c.is_ascii_digit())))
        .then_some(major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_v1_type_maps_to_v2_and_back() {
        for t in ServiceType::ALL {
            let v2 = v2_type(t);
            assert_eq!(v1_type(v2.service_type, v2.version, v2.plan), Ok(t), "{t}");
        }
    }

    #[test]
    fn v2_spellings_and_refusals() {
        use ServiceType::*;
        assert_eq!(
            v1_type("postgresql", Some("13.x"), Some("db.t3.micro")),
            Ok(Postgresql13)
        );
        assert_eq!(
            v1_type("postgresql", Some("13.4"), Some("db.t3.micro")),
            Ok(Postgresql13)
        );
        for v in ["6", "6.x", "6.2"] {
            assert_eq!(
                v1_type("redis", Some(v), Some("cache.t3.micro")),
                Ok(Redis6)
            );
        }
        assert_eq!(v1_type("documentdb", Some("4.0"), None), Ok(Mongodb4));
        assert_eq!(
            v1_type("postgresql", Some("16"), Some("db.t3.micro")),
            Ok(Postgresql16)
        );
        assert_eq!(v1_type("redis", Some("7.x"), None), Ok(Redis7));
        for (t, v, p) in [
            ("postgresql", Some("12"), Some("db.t3.micro")),
            ("postgresql", Some("17"), Some("db.t3.micro")),
            ("postgresql", None, Some("db.t3.micro")),
            ("redis", Some("5"), None),
            ("redis", None, None),
            ("volume", Some("1"), None),
            ("mysql", Some("8"), None),
            ("postgresql", Some("13.y"), None),
        ] {
            let e = v1_type(t, v, p).unwrap_err();
            assert!(e.contains(t), "{e}");
        }
    }
}
