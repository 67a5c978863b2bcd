// Types shared by main.bicep and its modules.

@export()
@description('An extra header the proxy adds to every request to Amplitude. The value is secure: it is never logged in the deployment history. A Key Vault reference, @Microsoft.KeyVault(SecretUri=https://<vault>.vault.azure.net/secrets/<name>), works as a value.')
type upstreamHeader = {
  @description('Header name, e.g. X-Proxy-Auth. Host, Content-*, Cookie, X-Forwarded-For and hop-by-hop names are refused by the proxy at start.')
  name: string

  @secure()
  @description('Header value.')
  value: string
}
