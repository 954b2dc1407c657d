// Namespaces most files of this project use: its load generators, and the two small web servers beside them
// (the reference endpoint and the webhook receiver).
global using System.Collections.Concurrent;
global using System.Diagnostics;
global using System.Net.Http.Headers;
global using System.Text;
global using System.Text.Json;
global using Microsoft.AspNetCore.Builder;
global using Microsoft.AspNetCore.Hosting;
global using Microsoft.AspNetCore.Http;
global using Microsoft.Extensions.DependencyInjection;
global using Microsoft.Extensions.Logging;
global using Npgsql;
