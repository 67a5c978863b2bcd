#!/bin/sh
# azd postprovision hook: print the DNS records to create and the SDK settings to use.
# azd exports the environment's values (the Bicep outputs) to hooks; fall back to `azd env get-value`.
set -eu

value() {
  eval "current=\${$1:-}"
  if [ -z "$current" ] && command -v azd >/dev/null 2>&1; then
    current=$(azd env get-value "$1" 2>/dev/null || true)
    case "$current" in ERROR*) current="" ;; esac
  fi
  printf '%s' "$current"
}

base_url=$(value PROXY_BASE_URL)
endpoint=$(value FRONT_DOOR_ENDPOINT_HOSTNAME)
custom_domain=$(value CUSTOM_DOMAIN_NAME)
cname_target=$(value CUSTOM_DOMAIN_CNAME_TARGET)
txt_name=$(value CUSTOM_DOMAIN_VALIDATION_RECORD_NAME)
txt_value=$(value CUSTOM_DOMAIN_VALIDATION_RECORD_VALUE)
dns_managed=$(value CUSTOM_DOMAIN_DNS_MANAGED)
region=$(value AMPLITUDE_REGION)
resource_group=$(value AZURE_RESOURCE_GROUP)
profile=$(value FRONT_DOOR_PROFILE_NAME)
site_host=$(value FUNCTION_APP_DEFAULT_HOSTNAME)
track_url=$(value PROXY_TRACK_URL)
config_url=$(value PROXY_CONFIG_URL)
httpapi_url=$(value PROXY_HTTPAPI_URL)
batch_url=$(value PROXY_BATCH_URL)
legacy_url=$(value PROXY_LEGACY_URL)

echo ""
echo "ReplayFunctions proxy provisioned (Amplitude region: ${region:-US})"
echo "  Front Door endpoint: https://${endpoint}"

if [ -n "$custom_domain" ]; then
  echo ""
  if [ "$dns_managed" = "true" ]; then
    echo "DNS records were created in your Azure DNS zone:"
  else
    echo "Create these DNS records at your DNS host now (the values exist only once provisioning has run):"
  fi
  echo "  CNAME  ${custom_domain}  ->  ${cname_target}"
  echo "  TXT    ${txt_name}  =  ${txt_value}"
  echo ""
  echo "Front Door validates the domain within minutes of the TXT record resolving; the managed certificate"
  echo "follows, usually within an hour. Until then ${custom_domain} does not answer. Check with:"
  echo "  az afd custom-domain list -g ${resource_group} --profile-name ${profile} -o table"
  echo "  (domainValidationState must read Approved; the token expires after 7 days)"
fi

echo ""
echo "SDK configuration (base URL ${base_url}):"
echo "  Browser, Session Replay plugin / standalone SDK:"
echo "    trackServerUrl:  '${track_url}'"
echo "    configServerUrl: '${config_url}'"
echo "  Browser, analytics SDK (amplitude.init options):"
echo "    serverUrl:       '${httpapi_url}'"
echo "    remoteConfig:    { serverUrl: '${config_url}' }"
echo "  iOS, Amplitude-Swift / Android, Amplitude-Kotlin (Configuration):"
echo "    serverUrl:       \"${httpapi_url}\"   (with useBatch: \"${batch_url}\")"
echo "  iOS, Amplitude-iOS 8.x:"
echo "    [[Amplitude instance] setServerUrl:@\"${legacy_url}\"];   (keep useDynamicConfig off)"
echo ""
echo "Check it after 'azd deploy' finishes:"
echo "  curl -i ${base_url}/healthz             # 200"
echo "  curl -i https://${site_host}/healthz    # 403: the app answers only through Front Door"
echo ""
