// Package collector names the vendor metrics and maps the vendors' answers
// to samples: pure functions from a decoded answer to expo samples, one file
// per API family. It knows no HTTP, no scheduling and no configuration; the
// daemon's sources (internal/sources) and the backfill both call it.
package collector

import (
	"github.com/imstats/imstats_exporter/internal/expo"
)

// The schemas of the sources: every family a source emits, in the order
// the exposition writes them.
var (
	OperationsSchema    = expo.NewSchema(operationsFamilyList()...)
	PushSchema          = expo.NewSchema(append(pushWindowFamily[:], append(pushWindowPlatformFamily[:], append(pushTaskFamily[:], pushTaskPlatformFamily[:]...)...)...)...)
	ReceivedSchema      = expo.NewSchema(jpushDeliverySent, jpushDeliveryReceived, jpushDeliveryCombinedReceived)
	MessagesSchema      = expo.NewSchema(jpushAppFamilies.messageFamilies()...)
	GroupMessagesSchema = expo.NewSchema(jpushGroupFamilies.messageFamilies()...)
	UsersSchema         = expo.NewSchema(jpushAppFamilies.usersFamilies()...)
	GroupUsersSchema    = expo.NewSchema(jpushGroupFamilies.usersFamilies()...)
	StatusSchema        = expo.NewSchema(jpushDevices)
	NormalPushSchema    = expo.NewSchema(append(normalPushWindowFamily[:], normalPushWindowPlatformFamily[:]...)...)
)

// operationsFamilyList returns the families of tencent_operations in the
// vendor's field order, then the day, the app info and the unknown fields.
func operationsFamilyList() []*expo.Family {
	out := make([]*expo.Family, 0, len(OperationsFields)+3)
	for _, f := range OperationsFields {
		out = append(out, operationsFamilies[f.Field])
	}
	return append(out, opsDay, opsAppInfo, opsUnknown)
}

func (f *jpushFamilies) messageFamilies() []*expo.Family {
	return append(append(f.message[:], f.channel[:]...), f.combined[:]...)
}

func (f *jpushFamilies) usersFamilies() []*expo.Family {
	return append(f.users[:], f.usersDay)
}
