(let [out (java.io.ByteArrayOutputStream.)]
  (doseq [^String arg *command-line-args*]
    (let [bytes (.getBytes arg "UTF-8")]
      (.write out (.getBytes (str (alength bytes) ":") "UTF-8"))
      (.write out bytes 0 (alength bytes))
      (.write out 10)))
  (.write System/out (.toByteArray out))
  (.flush System/out))
