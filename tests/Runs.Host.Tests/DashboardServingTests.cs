
namespace Runs.Host.Tests;

/// <summary>The dashboard's files: served without a token, every page path answered with the app, nothing from elsewhere.</summary>
[Collection(DefaultCollection.Name)]
public sealed class DashboardServingTests(DefaultHost fixture)
{
    private readonly IAlbaHost _host = fixture.Host;

    [Theory]
    [InlineData("/ui")]
    [InlineData("/ui/")]
    [InlineData("/ui/jobs/nightly.etl/runs/20260101-000000-0000000000000000")]
    [InlineData("/ui/search")]
    public async Task Every_page_path_answers_the_app_without_a_token(string path)
    {
        var result = await _host.Scenario(s =>
        {
            s.Get.Url(path);
            s.StatusCodeShouldBeOk();
        });

        var html = await result.ReadAsTextAsync();
        Assert.StartsWith("text/html", result.Context.Response.ContentType);
        Assert.Contains("<base href=\"/ui/\">", html);
        Assert.Contains("<script type=\"module\" src=\"assets/app.js\"></script>", html);
        Assert.Contains("script-src 'self'", result.Context.Response.Headers.ContentSecurityPolicy.ToString());
        Assert.Contains("frame-ancestors 'none'", result.Context.Response.Headers.ContentSecurityPolicy.ToString());
    }

    [Fact]
    public async Task Scripts_styles_and_the_chart_library_come_from_this_host_and_revalidate()
    {
        foreach (var (path, type) in new[]
        {
            ("/ui/assets/app.js", "text/javascript"), ("/ui/assets/pages/run.js", "text/javascript"),
            ("/ui/assets/app.css", "text/css"), ("/ui/assets/vendor/uplot/uPlot.esm.js", "text/javascript"),
            ("/ui/assets/vendor/uplot/uPlot.min.css", "text/css"),
        })
        {
            var result = await _host.Scenario(s => { s.Get.Url(path); s.StatusCodeShouldBeOk(); });
            Assert.StartsWith(type, result.Context.Response.ContentType);
            Assert.Equal("nosniff", result.Context.Response.Headers.XContentTypeOptions.ToString());
            var etag = result.Context.Response.Headers.ETag.ToString();
            Assert.NotEmpty(etag);
            await _host.Scenario(s =>
            {
                s.Get.Url(path);
                s.WithRequestHeader("If-None-Match", etag);
                s.StatusCodeShouldBe(304);
            });
        }
    }

    [Theory]
    [InlineData("POST", "/ui")]
    [InlineData("PUT", "/ui/assets/app.js")]
    [InlineData("PROPFIND", "/ui/search")]
    public async Task Other_methods_are_405_naming_get_and_head_without_asking_for_a_token(string method, string path)
    {
        var answer = await fixture.Host.Server.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, answer.StatusCode);
        Assert.Equal("GET, HEAD", string.Join(", ", answer.Content.Headers.Allow));
        Assert.Equal("application/problem+json", answer.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_file_that_is_not_there_is_404_not_the_app()
    {
        await _host.Scenario(s =>
        {
            s.Get.Url("/ui/assets/no-such-file.js");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task No_page_or_file_refers_to_another_origin()
    {
        var index = await (await _host.Scenario(s => s.Get.Url("/ui"))).ReadAsTextAsync();
        var app = await (await _host.Scenario(s => s.Get.Url("/ui/assets/app.js"))).ReadAsTextAsync();

        Assert.DoesNotContain("http://", index + app);
        Assert.DoesNotContain("https://", index + app);
    }

    [Fact]
    public async Task The_dashboard_is_not_part_of_the_API_document()
    {
        var document = await (await _host.Scenario(s => s.Get.Url("/openapi/v1.json"))).ReadAsTextAsync();

        Assert.DoesNotContain("\"/ui", document);
    }
}
