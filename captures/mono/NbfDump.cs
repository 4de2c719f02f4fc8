// NbfDump.cs - decode MC-NMF sized-envelope payloads (binary XML, MC-NBFX/NBFS/NBFSE) with
// Mono's own XmlDictionaryReader, as a cross-check of what Mono's WCF put on the wire.
// Build: mcs -out:NbfDump.exe -r:System.ServiceModel.dll -r:System.Runtime.Serialization.dll NbfDump.cs
// Input on stdin, one envelope per line, tab separated:  <frame> <direction-key> <hex payload>
//   (e.g. from: tshark -T fields -e frame.number -e tcp.srcport -e mc-nmf.payload)
// Options: --session   payloads carry an NBFSE in-band dictionary prefix (net.tcp, encoding 0x08);
//                      one string table per direction-key, ids assigned 1,3,5,... in order of appearance.
//          (default)   plain NBFS (application/soap+msbin1): no prefix, no session.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Text;
using System.Xml;

public static class NbfDump
{
    static int ReadMb31(byte[] b, ref int pos)
    {
        int value = 0, shift = 0;
        while (true)
        {
            byte x = b[pos++];
            value |= (x & 0x7f) << shift;
            if ((x & 0x80) == 0) return value;
            shift += 7;
            if (shift > 28) throw new FormatException("MB31 too long");
        }
    }

    static byte[] FromHex(string hex)
    {
        hex = hex.Replace(":", "").Trim();
        var r = new byte[hex.Length / 2];
        for (int i = 0; i < r.Length; i++) r[i] = Convert.ToByte(hex.Substring(2 * i, 2), 16);
        return r;
    }

    public static int Main(string[] args)
    {
        bool useSession = Array.IndexOf(args, "--session") >= 0;
        // Mono's static NBFS dictionary (internal System.ServiceModel.Constants.SoapDictionary).
        var constType = typeof(System.ServiceModel.Channels.MessageEncoder).Assembly
            .GetType("System.ServiceModel.Constants", true);
        var dict = (IXmlDictionary)constType.GetProperty("SoapDictionary",
            BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public).GetValue(null, null);
        if (dict == null) throw new InvalidOperationException("could not get Mono's static SOAP dictionary");
        var sessions = new Dictionary<string, XmlBinaryReaderSession>();
        var counts = new Dictionary<string, int>();
        string line;
        int failures = 0;
        while ((line = Console.In.ReadLine()) != null)
        {
            var f = line.Split('\t');
            if (f.Length < 3) continue;
            string frame = f[0], dir = f[1];
            byte[] data = FromHex(f[2]);
            int pos = 0;
            Console.WriteLine("=== frame {0} dir {1} envelope {2} bytes", frame, dir, data.Length);
            XmlBinaryReaderSession session = null;
            if (useSession)
            {
                if (!sessions.TryGetValue(dir, out session)) { session = new XmlBinaryReaderSession(); sessions[dir] = session; counts[dir] = 0; }
                int tableLen = ReadMb31(data, ref pos);
                int end = pos + tableLen;
                while (pos < end)
                {
                    int len = ReadMb31(data, ref pos);
                    string s = Encoding.UTF8.GetString(data, pos, len);
                    pos += len;
                    int n = counts[dir]++;
                    session.Add(n, s);
                    Console.WriteLine("  in-band dictionary: id {0} = \"{1}\"", 2 * n + 1, s);
                }
                Console.WriteLine("  in-band dictionary block: {0} bytes (+ size prefix), NBFX starts at offset {1}", tableLen, pos);
            }
            try
            {
                var reader = XmlDictionaryReader.CreateBinaryReader(data, pos, data.Length - pos, dict,
                    XmlDictionaryReaderQuotas.Max, session);
                var sb = new StringBuilder();
                var ws = new XmlWriterSettings { Indent = true, OmitXmlDeclaration = true };
                using (var w = XmlWriter.Create(sb, ws)) w.WriteNode(reader, true);
                Console.WriteLine(sb.ToString());
            }
            catch (Exception ex)
            {
                failures++;
                Console.WriteLine("  DECODE FAILED: {0}", ex.Message);
            }
        }
        return failures == 0 ? 0 : 1;
    }
}
