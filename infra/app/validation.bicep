// The proxy's own rules for ReplayProxy:AllowedOrigins and ReplayProxy:AllowedApiKeys (ReplayProxyOptionsValidator,
// OriginPolicy.IsWellFormedOrigin, ApiKeys.IsWellFormed), so that main.bicep stops azd provision on a value the worker
// would refuse at start. tests/settings-validation-cases.json holds the values both are tested against.

@export()
@description('The entries of a comma-separated setting, trimmed, without empty ones (as the proxy splits them).')
func settingList(value string) string[] => filter(map(split(value, ','), entry => trim(entry)), entry => !empty(entry))

@description('True when every character of value occurs in allowed (case-sensitive).')
func onlyChars(value string, allowed string) bool => empty(filter(range(0, length(value)), i => !contains(allowed, substring(value, i, 1))))

@export()
@description('An Amplitude API key as the proxy accepts it: letters, digits, - and _.')
func isWellFormedApiKey(key string) bool =>
  !empty(key) && onlyChars(key, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_')

@export()
@description('A key list the proxy accepts: * alone (any key), or well-formed keys.')
func isValidApiKeyList(value string) bool =>
  settingList(value) == ['*'] || (!empty(settingList(value)) && empty(filter(settingList(value), key => !isWellFormedApiKey(key))))

@description('A port as a browser writes it in an origin: 1 to 65535, no leading zero, not the scheme\'s default.')
func isOriginPort(port string, scheme string) bool =>
  !empty(port) && length(port) <= 5 && onlyChars(port, '0123456789')
    ? !startsWith(port, '0') && int(port) <= 65535 && port != (scheme == 'https' ? '443' : '80')
    : false

func isOriginHost(host string) bool =>
  !empty(host) && onlyChars(host, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-')

// [v6 address] optionally followed by :port.
func isBracketedAuthority(authority string, scheme string) bool =>
  indexOf(authority, ']') > 1 && onlyChars(substring(authority, 1, indexOf(authority, ']') - 1), '0123456789abcdefABCDEF:.')
    ? (indexOf(authority, ']') == length(authority) - 1
        ? true
        : substring(authority, indexOf(authority, ']') + 1, 1) == ':' && isOriginPort(substring(authority, indexOf(authority, ']') + 2), scheme))
    : false

func isOriginAuthority(authority string, scheme string) bool =>
  startsWith(authority, '[')
    ? isBracketedAuthority(authority, scheme)
    : contains(authority, ':')
        ? isOriginHost(substring(authority, 0, indexOf(authority, ':'))) && isOriginPort(substring(authority, indexOf(authority, ':') + 1), scheme)
        : isOriginHost(authority)

func originScheme(origin string) string =>
  startsWith(toLower(origin), 'https://') ? 'https' : startsWith(toLower(origin), 'http://') ? 'http' : ''

@export()
@description('An origin as a browser serializes it: http(s)://host[:port], nothing after; no wildcard.')
func isWellFormedOrigin(origin string) bool =>
  empty(originScheme(origin)) ? false : isOriginAuthority(substring(origin, length(originScheme(origin)) + 3), originScheme(origin))

@export()
@description('An origin list the template accepts: at least one origin, each well formed.')
func isValidOriginList(value string) bool =>
  !empty(settingList(value)) && empty(filter(settingList(value), origin => !isWellFormedOrigin(origin)))

@export()
@description('Why ReplayProxy:Paths:<name> would refuse path at start (ReplayPathRules), or empty when it is usable on its own. The rules between paths (two on one path, one under the config path) are main.bicep\'s.')
func publicPathProblem(name string, path string) string =>
  !startsWith(path, '/')
    ? 'a path must start with /'
    : !onlyChars(path, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/')
        ? 'a path may contain only letters, digits, -, ., _, ~ and / (no query, no escapes)'
        : path == '/'
            ? (name == 'Legacy' ? '' : 'the root is the form route\'s (PROXY_PATH_LEGACY)')
            : endsWith(path, '/') || contains(path, '//') || contains('${path}/', '/./') || contains('${path}/', '/../')
                ? 'a path must not end with / nor contain empty, . or .. segments'
                : !empty(filter(['/healthz', '/eu', '/us', '/admin', '/runtime'], reserved => toLower(path) == reserved || startsWith(toLower(path), '${reserved}/')))
                    ? 'paths on or under /healthz (health checks), /eu and /us (region prefixes), /admin and /runtime (the Functions host\'s own) never reach the route'
                    : ''
