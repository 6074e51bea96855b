# floorlink label template: 4x6 in shipping label with SSCC (GS1 logistic label layout)
# dpi: 203
^XA
^CI28
^PW812
^LL1218
^FO20,20^GB772,1178,3^FS
^FO40,40^A0N,28,28^FDSHIP TO^FS
^FO40,80^A0N,44,44^FD{{field.customer}}^FS
^FO40,135^A0N,32,32^FD{{field.street}}^FS
^FO40,175^A0N,32,32^FD{{field.postal_code}} {{field.city}}^FS
^FO20,230^GB772,3,3^FS
^FO40,250^A0N,28,28^FDORDER {{order_id}}   STATION {{station}}   {{date}}^FS
^FO40,300^A0N,28,28^FDSHIP TO POSTAL CODE (420)^FS
^FO40,340^BY3^BCN,120,Y,N,N,D^FD(420){{field.postal_code}}^FS
^FO20,520^GB772,3,3^FS
^FO40,540^A0N,28,28^FDSSCC^FS
^FO40,580^BY3^BCN,200,Y,N,N,D^FD(00){{sscc}}^FS
^FO40,880^BXN,6,200,,,,_^FD_100{{sscc}}^FS
^FO300,900^A0N,28,28^FDSSCC (GS1 DataMatrix)^FS
^XZ
