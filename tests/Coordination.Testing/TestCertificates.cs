using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Coordination.Testing;

/// <summary>
/// Certificates that eng/servers.sh's CA did not sign, written as PEM files into a temporary folder: a foreign CA (to
/// show a server certificate being refused) and a client certificate it signed (to show a server refusing a client).
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory) => Directory = directory;

    /// <summary>The folder holding the files (deleted on dispose).</summary>
    public string Directory { get; }

    /// <summary>A CA certificate (PEM) that signed neither secure server's certificate.</summary>
    public string ForeignCaFile => Path.Combine(Directory, "foreign-ca.pem");

    /// <summary>A client certificate (PEM) signed by the foreign CA, subject <c>CN=stranger</c>.</summary>
    public string ForeignClientCertificateFile => Path.Combine(Directory, "stranger.pem");

    /// <summary>Its key (PEM, PKCS#8).</summary>
    public string ForeignClientKeyFile => Path.Combine(Directory, "stranger.key");

    /// <summary>A client certificate (PEM) whose validity ended yesterday, with its key in the same file.</summary>
    public string ExpiredClientCertificateFile => Path.Combine(Directory, "expired.pem");

    /// <summary>Creates the files.</summary>
    public static TestCertificates Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), "coord-certs-" + TestNamespace.NewId());
        System.IO.Directory.CreateDirectory(dir);
        var certs = new TestCertificates(dir);
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Foreign Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-11), now.AddDays(30));
        File.WriteAllText(certs.ForeignCaFile, ca.ExportCertificatePem());

        using var clientKey = RSA.Create(2048);
        var clientRequest = new CertificateRequest("CN=stranger", clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var client = clientRequest.Create(ca, now.AddDays(-1), now.AddDays(29), [1, 2, 3, 4]);
        File.WriteAllText(certs.ForeignClientCertificateFile, client.ExportCertificatePem());
        File.WriteAllText(certs.ForeignClientKeyFile, clientKey.ExportPkcs8PrivateKeyPem());

        using var expiredKey = RSA.Create(2048);
        var expiredRequest = new CertificateRequest("CN=expired", expiredKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var expired = expiredRequest.Create(ca, now.AddDays(-10), now.AddDays(-1), [5, 6, 7, 8]);
        File.WriteAllText(certs.ExpiredClientCertificateFile, expired.ExportCertificatePem() + "\n" + expiredKey.ExportPkcs8PrivateKeyPem());
        return certs;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
