// Package snapshot is libvirt 11.3's domain snapshot XML and a domain's
// snapshot tree, ported from src/conf/snapshot_conf.c, moment_conf.c,
// virdomainmomentobjlist.c and virdomainsnapshotobjlist.c. The driver
// does the hypervisor's part of the DOMAIN_SNAPSHOT_* procedures and
// keeps one Tree per domain; this package answers what libvirt's
// configuration layer answers, with the same errors.
//
//   - Parse/ParseWith read a snapshot document (virDomainSnapshotDefParse),
//     the nested domains through domxml as an inactive, unvalidated parse;
//     Format writes it byte for byte as virDomainSnapshotDefFormat;
//     FormatMetadata and ParseMetadata are the metadata file's pair.
//   - AlignDisks is virDomainSnapshotAlignDisks with the external file
//     names it generates.
//   - Tree is virDomainSnapshotObjList: names, parent links, the current
//     snapshot, the list filters, and the redefine checks
//     (virDomainSnapshotRedefinePrep).
//
// Where this package knowingly differs from libvirt:
//   - <cookie> is kept as it came and written back re-indented. libvirt
//     hands it to the driver's save-cookie callbacks (QEMU's CPU and
//     slirp), and its libxl driver, which has none, would drop it.
//   - A disk's <source> is read by libvirtxml, with the checks and
//     normalisations of virDomainStorageSourceParse that a snapshot disk
//     can meet (network protocol, name, hosts and their default ports,
//     tls, ssh identity); rarer sources (nvme, vhost-user, vdpa, auth,
//     encryption details) are kept as libvirtxml reads them, unchecked.
//   - ParseValidate checks domainsnapshot.rng's structure in code: the
//     common libxml2 messages are matched, the wording of failed choices
//     is not.
//   - Lists are deterministic where libvirt's follow its hash table:
//     see Tree.List.
//   - VIR_DOMAIN_SNAPSHOT_PARSE_DISKS, which the brief of this package
//     named, is gone from libvirt (disks are always parsed), and 11.3 has
//     no "already exists with a different uuid" error; neither is here.
package snapshot
