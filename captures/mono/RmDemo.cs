// RmDemo.cs - minimal WCF (Mono) service + client producing net.tcp / HTTP+msbin traffic
// for rmscope decoder tests. Build:
//   mcs -out:RmDemo.exe -r:System.ServiceModel.dll -r:System.Runtime.Serialization.dll RmDemo.cs
// Usage:
//   mono RmDemo.exe tcp-rm   # NetTcpBinding, Security=None, ReliableSession.Enabled=true (ordered)
//   mono RmDemo.exe tcp-rm-custom # CustomBinding(ReliableSession(ordered) + BinaryMessageEncoding + TcpTransport)
//   mono RmDemo.exe tcp      # NetTcpBinding, Security=None, no reliable session
//   mono RmDemo.exe http     # CustomBinding(BinaryMessageEncoding + HttpTransport) on :8809
// Each mode hosts the service and runs the client in the same process, then exits 0 on success.
using System;
using System.ServiceModel;
using System.ServiceModel.Channels;
using System.Threading;

[ServiceContract(Namespace = "http://tempuri.org/")]
public interface IRmDemo
{
    [OperationContract(IsOneWay = true)]
    void Notify(string text);

    [OperationContract]
    string Echo(string text);
}

[ServiceBehavior(InstanceContextMode = InstanceContextMode.Single, ConcurrencyMode = ConcurrencyMode.Single)]
public class RmDemoService : IRmDemo
{
    public static readonly ManualResetEvent NotifySeen = new ManualResetEvent(false);

    public void Notify(string text)
    {
        Console.WriteLine("[service] Notify(\"{0}\")", text);
        NotifySeen.Set();
    }

    public string Echo(string text)
    {
        Console.WriteLine("[service] Echo(\"{0}\")", text);
        return "echo: " + text;
    }
}

public static class Program
{
    static Binding MakeBinding(string mode)
    {
        switch (mode)
        {
            case "tcp-rm":
            {
                var b = new NetTcpBinding(SecurityMode.None, true);
                if (b.ReliableSession == null)
                    throw new NotSupportedException("NetTcpBinding.ReliableSession is null on this runtime " +
                        "(Mono's NetTcpBinding ignores reliableSessionEnabled and never creates an OptionalReliableSession)");
                b.ReliableSession.Enabled = true;
                b.ReliableSession.Ordered = true;
                return b;
            }
            case "tcp-rm-custom":
                // Same stack a reliable NetTcpBinding would build on .NET: RM + binary encoding + TCP.
                return new CustomBinding(new ReliableSessionBindingElement(true),
                                         new BinaryMessageEncodingBindingElement(),
                                         new TcpTransportBindingElement());
            case "tcp":
                return new NetTcpBinding(SecurityMode.None, false);
            case "http":
                return new CustomBinding(new BinaryMessageEncodingBindingElement(), new HttpTransportBindingElement());
            default:
                throw new ArgumentException("unknown mode: " + mode);
        }
    }

    static string MakeAddress(string mode)
    {
        return mode == "http" ? "http://127.0.0.1:8809/rmdemo" : "net.tcp://127.0.0.1:8808/rmdemo";
    }

    public static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "tcp";
        string address = MakeAddress(mode);
        ServiceHost host = null;
        try
        {
            var binding = MakeBinding(mode);
            Console.WriteLine("[main] mode={0} binding={1} address={2}", mode, binding.GetType().Name, address);
            foreach (var be in ((binding is CustomBinding) ? (CustomBinding)binding : new CustomBinding(binding)).Elements)
                Console.WriteLine("[main]   element: {0}", be.GetType().FullName);

            host = new ServiceHost(typeof(RmDemoService));
            host.AddServiceEndpoint(typeof(IRmDemo), binding, new Uri(address));
            host.Open();
            Console.WriteLine("[service] listening");

            var factory = new ChannelFactory<IRmDemo>(MakeBinding(mode), new EndpointAddress(address));
            IRmDemo proxy = factory.CreateChannel();
            ((IClientChannel)proxy).Open();

            Console.WriteLine("[client] Echo -> {0}", proxy.Echo("hello 1"));
            proxy.Notify("note 2");
            Console.WriteLine("[client] Notify sent");
            Console.WriteLine("[client] Echo -> {0}", proxy.Echo("hello 3"));
            if (!RmDemoService.NotifySeen.WaitOne(5000))
                Console.WriteLine("[client] WARNING: Notify not observed by service within 5 s");

            ((IClientChannel)proxy).Close();
            factory.Close();
            Console.WriteLine("[client] closed");
            Thread.Sleep(500);
            host.Close();
            Console.WriteLine("[service] closed");
            return 0;
        }
        catch (Exception ex)
        {
            Console.WriteLine("[main] FAILED: {0}", ex);
            try { if (host != null) host.Abort(); } catch { }
            return 1;
        }
    }
}
