package catalog

import (
	"maps"
	"slices"
)

// regionHosts maps the region names accepted in the configuration to the
// vendor's API hosts (each REST API page lists most of them, e.g. Pulling Operations Data).
var regionHosts = map[string]string{
	"china":          "console.tim.qq.com",
	"singapore":      "adminapisgp.im.qcloud.com",
	"seoul":          "adminapikr.im.qcloud.com",
	"tokyo":          "adminapijpn.im.qcloud.com",
	"frankfurt":      "adminapiger.im.qcloud.com",
	"silicon_valley": "adminapiusa.im.qcloud.com",
	"jakarta":        "adminapiidn.im.qcloud.com",
	"riyadh":         "adminapiksa.im.qcloud.com",
	"mumbai":         "adminapiind.im.qcloud.com", // legacy region
}

// RegionBaseURL returns the base URL of a region, and false for an unknown
// region name.
func RegionBaseURL(region string) (string, bool) {
	h, ok := regionHosts[region]
	if !ok {
		return "", false
	}
	return "https://" + h, true
}

// Regions returns the known region names, sorted.
func Regions() []string {
	return slices.Sorted(maps.Keys(regionHosts))
}
