//! The `.rpm` on a system that has nothing: its requirements are the `.deb`'s
//! dependencies under Fedora's names (one table), it installs with `rpm -i --root
//! --nodeps` into an empty root and `rpm -e` removes it, and what a Fedora system must
//! provide (every library the programs link) is listed. Fedora's repositories are not
//! reachable from here, so the Fedora names are written down, not resolved.

use std::collections::{BTreeMap, BTreeSet};

use super::super::{FILES, output, package};
use super::deb_field_names;

/// Each Debian dependency of the `.deb`, the Fedora package that provides it, and the
/// requirement the `.rpm` states for it (`rpm -qpR`). One table: a dependency added to
/// one package and not the other, or to neither table, fails the test below.
const DEBIAN_TO_FEDORA: &[(&str, &str, &str)] = &[
    (
        "libwebkit2gtk-4.1-0",
        "webkit2gtk4.1",
        "libwebkit2gtk-4.1.so.0()(64bit)",
    ),
    ("libgtk-3-0", "gtk3", "libgtk-3.so.0()(64bit)"),
    (
        "libayatana-appindicator3-1",
        "libayatana-appindicator-gtk3",
        "libayatana-appindicator3.so.1()(64bit)",
    ),
    // Recommended, not required: the Secret Service provider.
    ("gnome-keyring", "gnome-keyring", "gnome-keyring"),
];

/// The Fedora package that provides each library the packaged programs link
/// (`readelf -d`'s NEEDED): what a Fedora system must have beyond the requirements
/// above (most come with them: GTK brings GLib, cairo, GDK-Pixbuf...).
const FEDORA_SONAMES: &[(&str, &str)] = &[
    ("libc.so.6", "glibc"),
    ("libm.so.6", "glibc"),
    ("ld-linux-x86-64.so.2", "glibc"),
    ("libgcc_s.so.1", "libgcc"),
    ("libgtk-3.so.0", "gtk3"),
    ("libgdk-3.so.0", "gtk3"),
    ("libgdk_pixbuf-2.0.so.0", "gdk-pixbuf2"),
    ("libcairo.so.2", "cairo"),
    ("libglib-2.0.so.0", "glib2"),
    ("libgobject-2.0.so.0", "glib2"),
    ("libgio-2.0.so.0", "glib2"),
    ("libdbus-1.so.3", "dbus-libs"),
    ("libwebkit2gtk-4.1.so.0", "webkit2gtk4.1"),
    ("libjavascriptcoregtk-4.1.so.0", "webkit2gtk4.1"),
    ("libsoup-3.0.so.0", "libsoup3"),
];

fn fedora_row(debian: &str) -> &'static (&'static str, &'static str, &'static str) {
    DEBIAN_TO_FEDORA
        .iter()
        .find(|(d, _, _)| *d == debian)
        .unwrap_or_else(|| panic!("{debian}: add its Fedora name to DEBIAN_TO_FEDORA"))
}

#[test]
#[ignore = "needs the packages and root: `cargo xtask test` or `cargo xtask bundle --check`"]
fn part1_the_rpm_needs_what_the_deb_needs_and_installs_into_an_empty_root() {
    let deb = package("deb", "deb");
    let rpm = package("rpm", "rpm");
    let (deb, rpm) = (deb.to_str().unwrap(), rpm.to_str().unwrap());

    // The same dependencies, under Fedora's names.
    let rpm_says = |args: &[&str]| -> BTreeSet<String> {
        let mut argv = args.to_vec();
        argv.push(rpm);
        output("rpm", &argv)
            .lines()
            .map(str::trim)
            .filter(|r| !r.starts_with("rpmlib("))
            .map(str::to_owned)
            .collect()
    };
    let under_fedora_names = |field: &str| -> BTreeSet<String> {
        deb_field_names(deb, field)
            .iter()
            .map(|d| fedora_row(d).2.to_owned())
            .collect()
    };
    assert_eq!(
        rpm_says(&["-qpR"]),
        under_fedora_names("Depends"),
        "rpm -qpR against the .deb's Depends"
    );
    assert_eq!(
        rpm_says(&["-qp", "--recommends"]),
        under_fedora_names("Recommends"),
        "the .rpm's recommends against the .deb's"
    );

    // Installed, without its dependencies, into an empty root.
    let root = tempfile::Builder::new()
        .prefix("rolehop-rpm-root-")
        .tempdir()
        .expect("temporary directory");
    let root_str = root.path().to_str().unwrap();
    output("rpm", &["--root", root_str, "--initdb"]);
    output("rpm", &["-i", "--root", root_str, "--nodeps", rpm]);
    let name = output("rpm", &["-qp", "--queryformat", "%{NAME}", rpm]);
    let listed = output("rpm", &["-ql", "--root", root_str, &name]);
    for file in FILES {
        assert!(listed.lines().any(|l| l == *file), "{file} not in {listed}");
        assert!(
            root.path().join(file.trim_start_matches('/')).is_file(),
            "{file} not installed under the root"
        );
    }

    // What a Fedora system must provide: every library the programs link.
    let mut needs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for program in ["usr/bin/rolehop", "usr/bin/rolehop-desktop"] {
        let dynamic = output(
            "readelf",
            &["-d", root.path().join(program).to_str().unwrap()],
        );
        for soname in dynamic
            .lines()
            .filter(|l| l.contains("(NEEDED)"))
            .filter_map(|l| l.split('[').nth(1)?.split(']').next())
        {
            match FEDORA_SONAMES.iter().find(|(s, _)| *s == soname) {
                Some((_, fedora)) => {
                    needs.entry(fedora).or_default().insert(soname.to_owned());
                }
                None => unknown.push(format!("{program}: {soname}")),
            }
        }
    }
    assert_eq!(
        unknown,
        Vec::<String>::new(),
        "add their Fedora packages to FEDORA_SONAMES"
    );
    for (_, fedora, requirement) in DEBIAN_TO_FEDORA {
        needs
            .entry(fedora)
            .or_default()
            .insert(format!("rpm: {requirement}"));
    }
    println!("a Fedora system must provide (rpm -i --nodeps skipped these):");
    for (fedora, what) in &needs {
        println!(
            "  {fedora}: {}",
            what.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }

    output("rpm", &["-e", "--root", root_str, &name]);
    for file in FILES {
        assert!(
            !root.path().join(file.trim_start_matches('/')).exists(),
            "{file} survived rpm -e"
        );
    }
}
