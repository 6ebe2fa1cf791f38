package peer

// The procedures of the remote program a migration's source calls on the
// destination, with libvirt's numbers (procs_test.go checks them).
const (
	procDomainMigratePrepare3Params       = 303
	procDomainMigratePrepareTunnel3Params = 304
	procDomainMigrateFinish3Params        = 306
)

// procNames are the procedures' names in remote_protocol.x, for the test.
var procNames = map[uint32]string{
	procDomainMigratePrepare3Params:       "DOMAIN_MIGRATE_PREPARE3_PARAMS",
	procDomainMigratePrepareTunnel3Params: "DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS",
	procDomainMigrateFinish3Params:        "DOMAIN_MIGRATE_FINISH3_PARAMS",
}

// The VIR_DRV_FEATURE_* numbers of virConnectSupportsFeature that the
// connection asks about.
const (
	featureProgramKeepalive = 10
	featureMigrationParams  = 13
)
